"""``gesturekit gestures validate|list|explain``: work with YAML gesture definitions."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gesturekit._exceptions import InputError
from gesturekit.classifiers.rules import (
    builtin_library_path,
    check_files,
    load_library,
)
from gesturekit.cli.common import (
    add_config_options,
    add_plugin_options,
    add_tracker_options,
    positive_int,
    settings_from_args,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gestures", help="validate, list and explain YAML gesture definitions",
                       description="Validate, list and explain YAML gesture definitions. The built-in library "
                                   f"lives in {builtin_library_path()}.")
    gsub = p.add_subparsers(dest="gestures_command", metavar="ACTION")

    v = gsub.add_parser("validate", help="check gesture files (file, line and field of every error)",
                        description="Check gesture files as the rules classifier would load them: every error of "
                                    "every file, one line each (exit status 2 if any). By default they are checked "
                                    "with the built-in library: a built-in name is taken, 'unless' may name "
                                    "built-in gestures.")
    v.add_argument("files", nargs="+", metavar="FILE", help="YAML gesture files or folders")
    lib = v.add_mutually_exclusive_group()
    lib.add_argument("--with-builtin", action="store_true",
                     help="check them with the built-in library (the default; kept for old scripts)")
    lib.add_argument("--no-builtin", action="store_true",
                     help="check them as a library of their own, as a config with 'builtin: false' loads them "
                          "(they may reuse built-in names)")
    v.set_defaults(func=run_validate)

    ls = gsub.add_parser("list", help="list the gestures (built-in and your own)")
    _add_library_options(ls)
    ls.add_argument("--json", action="store_true", help="one JSON object per gesture")
    ls.set_defaults(func=run_list)

    ex = gsub.add_parser("explain", help="show per hand the features and which conditions of which gestures hold",
                         description="Track an image (or a source) and print, per hand, finger states, directions, "
                                     "distances and every condition of every gesture with its measured value.")
    ex.add_argument("images", nargs="*", metavar="IMAGE", help="image files")
    ex.add_argument("--source", metavar="SRC", help="a video, camera, folder or landmark recording instead")
    ex.add_argument("--max-frames", type=positive_int, default=None, metavar="N",
                    help="stop after N frames of --source")
    ex.add_argument("--only", action="append", default=[], metavar="GESTURE",
                    help="show the conditions of these gestures only (repeatable)")
    ex.add_argument("--json", action="store_true", help="one JSON object per frame")
    ex.add_argument("--no-builtin", action="store_true", help="leave out the built-in library")
    add_config_options(ex)
    add_tracker_options(ex)
    add_plugin_options(ex)
    ex.set_defaults(func=run_explain)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _add_library_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gestures", action="append", default=[], metavar="PATH",
                   help="extra gesture files or folders (repeatable)")
    p.add_argument("--no-builtin", action="store_true", help="leave out the built-in library")


def run_validate(args: argparse.Namespace) -> int:
    defs, errors = check_files(args.files, builtin=not getattr(args, "no_builtin", False))
    for e in errors:
        print(f"gesturekit: error: {e}", file=sys.stderr)
    bad = {e.file for e in errors}
    for d in defs:
        if d.file not in bad:
            print(f"{d.file}: ok ({d.name}, {d.kind}, hands: {d.hands})")
    return 2 if errors else 0


def run_list(args: argparse.Namespace) -> int:
    defs = load_library(args.gestures, builtin=not args.no_builtin)
    for d in sorted(defs, key=lambda d: d.name):
        if args.json:
            print(json.dumps({"name": d.name, "kind": d.kind, "hands": d.hands, "description": d.description,
                              "values": [v.name for v in d.values], "file": d.file}))
        else:
            values = f" values: {', '.join(v.name for v in d.values)}" if d.values else ""
            print(f"{d.name:<13} {d.kind:<6} {d.hands:<5} {d.description}{values}")
    return 0


def run_explain(args: argparse.Namespace) -> int:
    from gesturekit.chain.builder import Chain
    from gesturekit.sources.images import ImageSource, expand_images

    if bool(args.images) == bool(args.source):
        raise InputError("give either IMAGE files or --source SRC")
    extra: dict[str, Any] = {}
    if args.no_builtin:
        extra["classifiers"] = {"rules": {"builtin": False}}
    if args.images:
        files = [f for spec in args.images for f in expand_images(spec)]
        settings = settings_from_args(args, tracker={"mode": "image"}, **extra)
    else:
        settings = settings_from_args(args, source={"uri": args.source, "max_frames": args.max_frames}, **extra)
    settings.sinks.clear()
    settings.observers.clear()
    chain = Chain(settings)
    explainers = {n: c for n, c in chain.parts.classifiers.items() if callable(getattr(c, "explain_last", None))}
    if not explainers:
        raise InputError("no classifier here can explain itself (the rules classifier is turned off)")
    known = {g for c in explainers.values() for g in getattr(c, "names", ())}
    unknown = [g for g in args.only if g not in known]
    if unknown:
        raise InputError(f"unknown gesture(s) {', '.join(unknown)}; see 'gesturekit gestures list'")
    items = ImageSource(files) if args.images else None
    with chain:
        for result in chain.run(items):
            if result.tail:
                continue
            frame = result.frame
            title = frame.source if args.images else f"{frame.source} frame {frame.index} t={frame.t:.3f}"
            hands = [h for c in explainers.values() for h in c.explain_last()]
            _print_explanation(title, frame, hands, args)
    return 0


def _print_explanation(title: str, frame: Any, hands: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.only:
        for h in hands:
            h["conditions"] = [c for c in h["conditions"] if c["gesture"] in args.only]
    if args.json:
        sys.stdout.write(json.dumps({"frame": title, "index": frame.index, "t": frame.t, "hands": hands},
                                    allow_nan=False) + "\n")
        return
    print(f"{title}: {len(hands)} hand(s)")
    for h in hands:
        print(f"  hand #{h['hand']} {h['handedness']}: gestures {', '.join(h['gestures']) or '(none)'}")
        for name, f in h["fingers"].items():
            extra = f", reach {h['thumb_reach']:.2f} palm" if name == "thumb" else ""
            print(f"    {name:<7} {f['state']:<8} curl {f['curl']:5.1f} deg{extra}; points {f['direction']} "
                  f"({f['direction_off']:.0f} deg off)")
        print(f"    palm faces {h['palm_facing']} ({h['palm_off']:.0f} deg off); velocity "
              f"({h['velocity'][0]:+.2f}, {h['velocity'][1]:+.2f}) palm/s")
        print("    distances (palm units): " + ", ".join(f"{k} {v:.2f}" for k, v in h["distances"].items()))
        by_gesture: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for c in h["conditions"]:
            by_gesture.setdefault((c["gesture"], c["pose"]), []).append(c)
        for (g, pose), conds in by_gesture.items():
            mark = "HOLDS" if g in h["gestures"] else ""
            label = f"{g}" + (f" (pose {pose + 1})" if pose else "")
            print(f"    {label:<16} {mark}")
            for c in conds:
                print(f"      [{'x' if c['holds'] else ' '}] {c['condition']}: {c['value']}")
