"""``gesturekit detect IMAGE... [--json]``: hands and static gestures in still images (the chain in image mode)."""

from __future__ import annotations

import argparse
import json
import sys

from gesturekit.chain.builder import Chain
from gesturekit.cli.common import add_config_options, add_plugin_options, add_tracker_options, settings_from_args
from gesturekit.sources.images import ImageSource, expand_images

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="find hands (and static gestures) in images",
                       description="Find hands and static gestures in still images.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders or glob patterns")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line")
    p.add_argument("--max-pixels", type=int, default=None, metavar="N",
                   help="refuse images larger than N pixels (0 = no limit; default: the documented limit)")
    add_config_options(p)
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = [f for spec in args.images for f in expand_images(spec)]  # a missing file fails before inference
    settings = settings_from_args(args, tracker={"mode": "image"})
    settings.sinks.clear()  # detect prints its own per-image records, not events
    settings.observers.clear()
    with Chain(settings) as chain:
        for result in chain.run(ImageSource(files, max_pixels=args.max_pixels)):
            frame, detections = result.frame, result.detections
            name = frame.source
            if args.json:
                out = {"image": name, "width": frame.width, "height": frame.height,
                       "hands": [h.to_dict() for h in frame.hands],
                       "gestures": [d.to_dict() for d in detections if d.kind == "static"]}
                sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
            else:
                gestures = ", ".join(f"{d.gesture} ({d.score:.2f})" for d in detections) or "no gesture"
                hands = ", ".join(f"#{h.track_id} {h.handedness} ({h.score:.2f})" for h in frame.hands) or "no hands"
                print(f"{name}: {frame.width}x{frame.height}, {hands}; {gestures}")
            sys.stdout.flush()
    return 0
