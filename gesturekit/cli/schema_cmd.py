"""``gesturekit schema config|gesture``: JSON Schemas for editors, generated from the models."""

from __future__ import annotations

import argparse
import json

from gesturekit.cli.common import add_plugin_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of config or gesture files",
                       description="Print a JSON Schema generated from gesturekit's models (installed plugins' "
                                   "sinks and classifiers included). Save it and point your editor at it: "
                                   "'# yaml-language-server: $schema=config.schema.json' as a file's first line.")
    p.add_argument("what", choices=["config", "gesture"], help="which file format")
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.what == "gesture":
        from gesturekit.classifiers.rules import gesture_json_schema

        schema = gesture_json_schema()
    else:
        from gesturekit.chain.plugin_manager import get_plugin_manager
        from gesturekit.chain.schema import config_json_schema

        schema = config_json_schema(get_plugin_manager(args.plugin_path))
    print(json.dumps(schema, indent=2))
    return 0
