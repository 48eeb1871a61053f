"""``gesturekit plugins list``: which plugins were found, and from where."""

from __future__ import annotations

import argparse
import json

from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager, list_plugins
from gesturekit.cli.common import add_plugin_options


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plugins", help="list plugins", description="Inspect gesturekit plugins.")
    psub = p.add_subparsers(dest="plugins_command", metavar="ACTION")
    lp = psub.add_parser("list", help="list plugins, their origin and hooks")
    lp.add_argument("--json", action="store_true", help="machine-readable output")
    add_plugin_options(lp)
    lp.set_defaults(func=run)
    p.set_defaults(func=lambda a: (p.print_help(), 2)[1])


def run(args: argparse.Namespace) -> int:
    pm = get_plugin_manager(args.plugin_path)
    infos = list_plugins(pm)
    factories = {kind: sorted(collect_factories(pm, kind)) for kind in ("classifiers", "sinks", "sources")}
    if args.json:
        print(json.dumps({"plugins": [i.__dict__ | {"hooks": list(i.hooks)} for i in infos],
                          "factories": factories}))
        return 0
    width = max((len(i.name) for i in infos), default=4)
    for i in infos:
        version = f" {i.version}" if i.version else ""
        print(f"{i.name:<{width}}  {i.origin}{version}  [{', '.join(i.hooks)}]")
    for kind, names in factories.items():
        print(f"{kind}: {', '.join(names) or '-'}")
    return 0
