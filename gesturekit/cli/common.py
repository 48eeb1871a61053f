"""Options shared by several subcommands."""

from __future__ import annotations

import argparse

from gesturekit.tracking import TrackerOptions

__all__ = ["add_tracker_options", "tracker_options_from", "add_plugin_options"]


def add_tracker_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("tracker")
    g.add_argument("--model", default="full", help="lite | full (default) | PATH.task")
    g.add_argument("--device", default="cpu", choices=["cpu", "gpu"], help="inference device (default cpu)")
    g.add_argument("--max-hands", type=int, default=2, help="most hands tracked (default 2)")
    g.add_argument("--min-detection-confidence", type=float, default=0.5)
    g.add_argument("--min-presence-confidence", type=float, default=0.5)
    g.add_argument("--min-tracking-confidence", type=float, default=0.5)
    m = g.add_mutually_exclusive_group()
    m.add_argument("--mirrored", dest="mirrored", action="store_true", default=None,
                   help="the input is a mirrored selfie view (default for cameras)")
    m.add_argument("--no-mirrored", dest="mirrored", action="store_false",
                   help="the input is not mirrored (default for files and images)")
    g.add_argument("--smooth", action="store_true", help="One-Euro smoothing of keypoints (video)")


def tracker_options_from(args: argparse.Namespace, mode: str = "video", live: bool = False) -> TrackerOptions:
    mirrored = args.mirrored if args.mirrored is not None else live
    opts = TrackerOptions(
        model=args.model, device=args.device, max_hands=args.max_hands,
        min_detection_confidence=args.min_detection_confidence,
        min_presence_confidence=args.min_presence_confidence,
        min_tracking_confidence=args.min_tracking_confidence,
        mirrored=mirrored, mode=mode, smoothing=bool(args.smooth) and mode == "video",
    )
    opts.validate()
    return opts


def add_plugin_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--plugin-path", action="append", default=[], metavar="PATH",
                   help="load plugins from a .py file or a folder of them (repeatable)")
