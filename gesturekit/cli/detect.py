"""``gesturekit detect IMAGE... [--json]``: hands and static gestures in still images."""

from __future__ import annotations

import argparse
import json
import sys

from gesturekit.chain.builder import build_classifiers
from gesturekit.chain.pipeline import Pipeline
from gesturekit.chain.plugin_manager import get_plugin_manager
from gesturekit.cli.common import add_plugin_options, add_tracker_options, tracker_options_from
from gesturekit.sources import read_image
from gesturekit.sources.images import expand_images

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="find hands (and static gestures) in images",
                       description="Find hands and static gestures in still images.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders or glob patterns")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line")
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = [f for spec in args.images for f in expand_images(spec)]
    images = [(f, read_image(f)) for f in files]  # every file is checked before any inference
    pm = get_plugin_manager(args.plugin_path)
    opts = tracker_options_from(args, mode="image")
    with Pipeline(pm, opts, classifiers=build_classifiers(pm, mirrored=opts.mirrored)) as pipe:
        for i, (f, img) in enumerate(images):
            pipe.reset()  # each image on its own: no state carried from the previous one
            frame = pipe.tracker.process(img, t=0.0, index=i, source=f)
            detections = pipe.classify(frame)
            if args.json:
                out = {"image": f, "width": frame.width, "height": frame.height,
                       "hands": [h.to_dict() for h in frame.hands],
                       "gestures": [d.to_dict() for d in detections if d.kind == "static"]}
                sys.stdout.write(json.dumps(out) + "\n")
            else:
                gestures = ", ".join(f"{d.gesture} ({d.score:.2f})" for d in detections) or "no gesture"
                hands = ", ".join(f"#{h.track_id} {h.handedness} ({h.score:.2f})" for h in frame.hands) or "no hands"
                print(f"{f}: {frame.width}x{frame.height}, {hands}; {gestures}")
    return 0
