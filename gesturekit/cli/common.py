"""Options shared by several subcommands, generated from the settings model: every CLI flag is
an override of a settings field (``--max-hands 1`` = ``tracker: {max_hands: 1}``)."""

from __future__ import annotations

import argparse
import types
import typing
from typing import Any

from gesturekit.settings import Settings, load_settings, with_overrides
from gesturekit.tracking.options import TrackerOptions

__all__ = ["add_tracker_options", "add_plugin_options", "add_config_options", "tracker_flag", "settings_from_args",
           "tracker_overrides", "positive_int"]


def tracker_flag(field: str) -> str:
    """The CLI flag of a tracker option: ``max_hands`` -> ``--max-hands``."""
    return "--" + field.replace("_", "-")


def _choices(annotation: Any) -> tuple[type | None, list[str] | None]:
    args = [a for a in typing.get_args(annotation) if a is not type(None)] or [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        annotation = args[0]
    if typing.get_origin(annotation) is typing.Literal:
        return str, [str(a) for a in typing.get_args(annotation)]
    return (annotation if annotation in (int, float, str, bool) else str), None


def add_tracker_options(p: argparse.ArgumentParser) -> None:
    """One flag per :class:`TrackerOptions` field (booleans get ``--x`` / ``--no-x``)."""
    g = p.add_argument_group("tracker")
    for name, field in TrackerOptions.model_fields.items():
        typ, choices = _choices(field.annotation)
        default = field.default
        help_ = f"{field.description} (default: {'auto' if default is None else default})"
        if typ is bool:
            g.add_argument(tracker_flag(name), dest=f"tracker_{name}", action=argparse.BooleanOptionalAction,
                           default=None, help=help_)
        else:
            g.add_argument(tracker_flag(name), dest=f"tracker_{name}", type=typ, choices=choices, default=None,
                           metavar=None if choices else name.upper().split("_")[-1], help=help_)


def tracker_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The tracker options given on the command line."""
    return {name: getattr(args, f"tracker_{name}") for name in TrackerOptions.model_fields
            if getattr(args, f"tracker_{name}", None) is not None}


def add_plugin_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin-path", action="append", default=[], metavar="PATH",
                   help="load plugins from a .py file or a folder of them (repeatable)")


def add_config_options(p: argparse.ArgumentParser, *, gestures: bool = True) -> None:
    """``--config FILE`` (the daemon's YAML) and ``--gestures PATH`` (your gesture files)."""
    p.add_argument("--config", "-c", metavar="FILE", help="a YAML config (the daemon's format); flags override it")
    if gestures:
        p.add_argument("--gestures", action="append", default=[], metavar="PATH",
                       help="your YAML gesture files or folders, beside the built-in library (repeatable)")


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {v}")
    return v


def settings_from_args(args: argparse.Namespace, **extra: Any) -> Settings:
    """The settings of a command: ``--config`` (if any) with the flags as overrides, plus
    ``extra`` overrides (e.g. ``source=...``, ``tracker={"mode": "image"}``)."""
    base = load_settings(args.config) if getattr(args, "config", None) else None
    over: dict[str, Any] = {}
    tracker = tracker_overrides(args)
    if tracker or "tracker" in extra:
        over["tracker"] = {**tracker, **extra.pop("tracker", {})}
    if getattr(args, "gestures", None):
        over["gestures"] = list(args.gestures)
    if getattr(args, "plugin_path", None):
        over["plugin_paths"] = list(args.plugin_path) + (base.plugin_paths if base is not None else [])
    over.update({k: v for k, v in extra.items() if v is not None})
    return with_overrides(base, over)
