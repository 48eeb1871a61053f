"""``gesturekit gestures validate|list|explain``: work with YAML gesture definitions."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gesturekit._exceptions import InputError
from gesturekit.classifiers.rules import (
    RulesClassifier,
    builtin_library_path,
    check_library,
    load_definitions,
    load_library,
)
from gesturekit.cli.common import add_tracker_options, tracker_options_from


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gestures", help="validate, list and explain YAML gesture definitions",
                       description="Validate, list and explain YAML gesture definitions. The built-in library "
                                   f"lives in {builtin_library_path()}.")
    gsub = p.add_subparsers(dest="gestures_command", metavar="ACTION")

    v = gsub.add_parser("validate", help="check gesture files (file, line and field of each error)")
    v.add_argument("files", nargs="+", metavar="FILE", help="YAML gesture files or folders")
    v.add_argument("--with-builtin", action="store_true", help="also check them against the built-in library "
                                                                 "(name clashes, 'unless' references)")
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
    ex.add_argument("--max-frames", type=int, default=None, metavar="N", help="stop after N frames of --source")
    ex.add_argument("--only", action="append", default=[], metavar="GESTURE",
                    help="show the conditions of these gestures only (repeatable)")
    ex.add_argument("--json", action="store_true", help="one JSON object per frame")
    _add_library_options(ex)
    add_tracker_options(ex)
    ex.set_defaults(func=run_explain)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _add_library_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--gestures", action="append", default=[], metavar="PATH",
                   help="extra gesture files or folders (repeatable)")
    p.add_argument("--no-builtin", action="store_true", help="leave out the built-in library")


def run_validate(args: argparse.Namespace) -> int:
    defs = load_definitions(args.files, check=not args.with_builtin)
    if args.with_builtin:
        check_library(load_definitions([builtin_library_path()], check=False) + defs)
    for d in defs:
        print(f"{d.file}: ok ({d.name}, {d.kind}, hands: {d.hands})")
    return 0


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
    from gesturekit.sources import open_source, read_image
    from gesturekit.tracking import Tracker

    if bool(args.images) == bool(args.source):
        raise InputError("give either IMAGE files or --source SRC")
    library = load_library(args.gestures, builtin=not args.no_builtin)
    unknown = [g for g in args.only if g not in {d.name for d in library}]
    if unknown:
        raise InputError(f"unknown gesture(s) {', '.join(unknown)}; see 'gesturekit gestures list'")
    source = open_source(args.source) if args.source else None
    # The rules must know the view the tracker assumes: cameras default to a mirrored selfie view.
    live = source.live if source is not None else False
    opts = tracker_options_from(args, mode=source.mode if source is not None else "image", live=live)
    clf = RulesClassifier(library, mirrored=opts.mirrored)
    if args.images:
        images = [(f, read_image(f)) for f in args.images]
        with Tracker(opts) as tracker:
            for i, (f, img) in enumerate(images):
                clf.reset()  # each image on its own
                frame = tracker.process(img, t=0.0, index=i, source=f)
                _print_explanation(f, frame, clf.explain(frame), args)
        return 0
    assert source is not None
    try:
        with Tracker(opts) as tracker:
            for n, item in enumerate(source):
                if args.max_frames is not None and n >= args.max_frames:
                    break
                frame = item.frame if item.frame is not None else tracker.process(
                    item.image, t=item.t, index=item.index, source=source.name)
                _print_explanation(f"{source.name} frame {frame.index} t={frame.t:.3f}", frame, clf.explain(frame),
                                   args)
    finally:
        source.close()
    return 0


def _print_explanation(title: str, frame: Any, hands: list[dict[str, Any]], args: argparse.Namespace) -> None:
    if args.only:
        for h in hands:
            h["conditions"] = [c for c in h["conditions"] if c["gesture"] in args.only]
    if args.json:
        sys.stdout.write(json.dumps({"frame": title, "index": frame.index, "t": frame.t, "hands": hands}) + "\n")
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
