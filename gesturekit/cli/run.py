"""``gesturekit run --source SRC``: the chain, with a JSON-lines stdout sink unless the config names sinks."""

from __future__ import annotations

import argparse
import sys

from gesturekit.chain.builder import Chain
from gesturekit.cli.common import (
    add_config_options,
    add_plugin_options,
    add_tracker_options,
    positive_int,
    settings_from_args,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="track a source and print gesture events",
                       description="Track a camera, video, images, stream or landmark recording and print "
                                   "GestureEvents as JSON lines on stdout (or send them to the sinks of --config).")
    p.add_argument("--source", metavar="SRC",
                   help="camera index (0), video file, image/folder/glob, rtsp:// or http:// URL, or a .jsonl "
                        "landmark recording (default: the config's source)")
    p.add_argument("--frames-jsonl", metavar="FILE", help="write one JSON line per frame with its hands")
    p.add_argument("--record-landmarks", metavar="FILE", help="record the session for replay (--source FILE)")
    p.add_argument("--annotate", metavar="OUT.mp4", help="write the input with hand skeletons, track ids, "
                                                         "handedness and active gestures drawn on every frame")
    p.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N frames")
    p.add_argument("--realtime", action="store_true", default=None, help="pace files at their frame rate")
    p.add_argument("--workers", type=_workers, metavar="N|auto",
                   help="trackers working on one video file at once (parallel.workers; default auto: the CPU "
                        "cores for a file, 1 for live sources)")
    p.add_argument("--max-pixels", type=int, metavar="N",
                   help="largest image or video frame in pixels (source.max_pixels; 0 lifts the limit)")
    add_config_options(p)
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def _workers(text: str) -> int | str:
    """An argparse type: ``auto`` or a whole number >= 1."""
    return text if text == "auto" else positive_int(text)


def observer_overrides(args: argparse.Namespace) -> dict:
    """``--frames-jsonl`` and ``--record-landmarks`` as ``landmarks`` observers, ``--annotate`` as an
    ``annotate`` observer."""
    out = {}
    if getattr(args, "frames_jsonl", None):
        out["frames_jsonl"] = {"type": "landmarks", "path": args.frames_jsonl, "precision": 6, "header": False}
    if getattr(args, "record_landmarks", None):
        out["record_landmarks"] = {"type": "landmarks", "path": args.record_landmarks}
    if getattr(args, "annotate", None):
        out["annotate"] = {"type": "annotate", "path": args.annotate}
    return out


def source_overrides(args: argparse.Namespace) -> dict | None:
    src = {}
    if args.source is not None:
        src["uri"] = args.source
    if getattr(args, "realtime", None):
        src["realtime"] = True
    if getattr(args, "max_frames", None):
        src["max_frames"] = args.max_frames
    if getattr(args, "max_pixels", None) is not None:
        src["max_pixels"] = args.max_pixels
    return src or None


def run(args: argparse.Namespace) -> int:
    parallel = {"workers": args.workers} if getattr(args, "workers", None) is not None else None
    settings = settings_from_args(args, source=source_overrides(args), observers=observer_overrides(args) or None,
                                  parallel=parallel)
    if settings.source is None:
        raise settings.error("no source: give --source SRC or a source section in the config", "source")
    with Chain(settings, default_sink="stdout") as chain:
        for _ in chain.run():
            pass
        dropped = chain.dropped
    if dropped:
        print(f"gesturekit: {dropped} frames dropped to keep up with the live source", file=sys.stderr)
    return 0
