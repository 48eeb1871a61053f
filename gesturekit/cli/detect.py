"""``gesturekit detect IMAGE... [--json]``: hands and static gestures in still images."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any

from ..pipeline import Pipeline
from ..plugins import get_plugin_manager
from ..sources import read_image
from ..sources.images import expand_images
from ..temporal import TemporalEngine, TemporalSpec
from .common import add_plugin_options, add_tracker_options, tracker_options_from

log = logging.getLogger("gesturekit.cli")


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
    with Pipeline(pm, tracker_options_from(args, mode="image"), classifiers=build_classifiers(pm)) as pipe:
        for i, (f, img) in enumerate(images):
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


def build_classifiers(pm, mirrored: bool = False) -> dict:  # noqa: ANN001
    """The default classifiers for ``detect`` and ``run``: the ``rules`` classifier with the
    built-in gesture library. ``mirrored`` (the tracker's setting: a selfie camera view) tells
    the rules which way the performer's left is; files and images are not mirrored."""
    from ..plugins import collect_factories

    factories = collect_factories(pm, "classifiers")
    if "rules" not in factories:
        return {}
    return {"rules": factories["rules"]({"builtin": True, "mirrored": bool(mirrored)})}


def build_engine(classifiers: Mapping[str, Any], source: str = "") -> TemporalEngine:
    """The temporal engine for ``run`` and ``demo``: per-gesture timing from every classifier in
    ``classifiers`` that has ``temporal_specs()``; other gestures get the default timing."""
    specs: dict[str, TemporalSpec] = {}
    for name, clf in classifiers.items():
        get = getattr(clf, "temporal_specs", None)
        if not callable(get):
            continue
        for gesture, spec in dict(get() or {}).items():
            if gesture in specs and specs[gesture] != spec:
                log.warning("classifier %r sets other timing for %r than an earlier classifier; using %r's",
                            name, gesture, name)
            specs[gesture] = spec
    return TemporalEngine(specs, source=source)
