"""``gesturekit detect IMAGE... [--json]``: hands and static gestures in still images (the chain in image mode)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from gesturekit._exceptions import InputError
from gesturekit.chain.builder import Chain
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
from gesturekit.cli.common import add_config_options, add_plugin_options, add_tracker_options, settings_from_args
from gesturekit.sources.images import ImageSource, expand_images

__all__ = ["add_parser", "run", "choose_classifiers", "top_per_hand"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("detect", help="find hands (and static gestures) in images",
                       description="Find hands and static gestures in still images.")
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files, folders or glob patterns")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line")
    p.add_argument("--max-pixels", type=int, default=None, metavar="N",
                   help="refuse images larger than N pixels (0 = no limit; default: the documented limit)")
    p.add_argument("--classifier", action="append", default=[], metavar="NAME",
                   help="run only this classifier: a classifier section of --config or an installed "
                        "classifier type (rules, asl, learned, ...); repeatable (default: the config's, or rules)")
    add_config_options(p)
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    files = [f for spec in args.images for f in expand_images(spec)]  # a missing file fails before inference
    settings = settings_from_args(args, tracker={"mode": "image"})
    settings.sinks.clear()  # detect prints its own per-image records, not events
    settings.observers.clear()
    pm = None
    if args.classifier:
        pm = get_plugin_manager(settings.plugin_paths)
        settings.classifiers = choose_classifiers(settings, args.classifier, collect_factories(pm, "classifiers"))
    with Chain(settings, pm=pm) as chain:
        for result in chain.run(ImageSource(files, max_pixels=args.max_pixels)):
            frame, detections = result.frame, result.detections
            name = frame.source
            if args.json:
                out = {"image": name, "width": frame.width, "height": frame.height,
                       "hands": [h.to_dict() for h in frame.hands],
                       "gestures": [d.to_dict() for d in detections if d.kind == "static"]}
                if args.classifier:  # per hand, the best detection of the chosen classifiers
                    for hand, top in zip(out["hands"], top_per_hand(frame.hands, detections), strict=True):
                        hand["top"] = {"gesture": top["gesture"], "score": top["score"]}
                sys.stdout.write(json.dumps(out, allow_nan=False) + "\n")
            else:
                gestures = ", ".join(f"{d.gesture} ({d.score:.2f})" for d in detections) or "no gesture"
                hands = ", ".join(f"#{h.track_id} {h.handedness} ({h.score:.2f})" for h in frame.hands) or "no hands"
                print(f"{name}: {frame.width}x{frame.height}, {hands}; {gestures}")
            sys.stdout.flush()
    return 0


def choose_classifiers(settings: Any, names: list[str], factories: dict[str, Any]) -> dict[str, Any]:
    """The ``classifiers`` section holding only ``names``: each a section of the settings (kept as
    configured) or an installed classifier type (with its defaults). The rules classifier, which a
    chain adds unless a ``rules`` section says otherwise, is turned off when it is not chosen."""
    from gesturekit.settings.model import SectionSettings

    chosen: dict[str, Any] = {}
    for name in names:
        if name in settings.classifiers:
            chosen[name] = settings.classifiers[name].model_copy(update={"enabled": True})
        elif name in factories:
            chosen[name] = SectionSettings(type=name)
        else:
            known = sorted(set(factories) | set(settings.classifiers))
            raise InputError(f"unknown classifier {name!r}; installed: {', '.join(known) or 'none'}")
    if "rules" not in chosen:
        chosen["rules"] = SectionSettings(type="rules", enabled=False)
    return chosen


def top_per_hand(hands: Any, detections: Any) -> list[dict[str, Any]]:
    """Per hand, the detection of the chosen classifiers with the highest score (``None`` when no
    detection concerns it): ``[{"track_id", "handedness", "gesture", "score"}]``."""
    out = []
    for h in hands:
        mine = [d for d in detections if h.track_id in d.hands]
        best = max(mine, key=lambda d: d.score, default=None)
        out.append({"track_id": h.track_id, "handedness": h.handedness,
                    "gesture": best.gesture if best else None, "score": round(float(best.score), 4) if best else None})
    return out
