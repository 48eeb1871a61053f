"""``gesturekit run --source SRC``: track a source and print GestureEvents as JSON lines."""

from __future__ import annotations

import argparse
import contextlib
import sys

from gesturekit.chain.builder import build_classifiers, build_engine
from gesturekit.chain.pipeline import Pipeline
from gesturekit.chain.plugin_manager import get_plugin_manager
from gesturekit.cli.common import add_plugin_options, add_tracker_options, tracker_options_from
from gesturekit.sources import ThreadedReader, open_source
from gesturekit.sources.recording import FrameWriter


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="track a source and print gesture events",
                       description="Track a camera, video, images, stream or landmark recording and print "
                                   "GestureEvents as JSON lines on stdout.")
    p.add_argument("--source", required=True, metavar="SRC",
                   help="camera index (0), video file, image/folder/glob, rtsp:// or http:// URL, or a .jsonl "
                        "landmark recording")
    p.add_argument("--frames-jsonl", metavar="FILE", help="write one JSON line per frame with its hands")
    p.add_argument("--record-landmarks", metavar="FILE", help="record the session for replay (--source FILE)")
    p.add_argument("--max-frames", type=int, metavar="N", help="stop after N frames")
    p.add_argument("--realtime", action="store_true", help="pace files at their frame rate")
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tracker_options_from(args)  # bad options fail before anything is opened
    pm = get_plugin_manager(args.plugin_path)
    source = open_source(args.source, realtime=args.realtime)
    reader = None
    with contextlib.ExitStack() as stack:
        stack.callback(source.close)
        opts = tracker_options_from(args, mode=source.mode, live=source.live)
        writers = []
        if args.frames_jsonl:
            writers.append(stack.enter_context(FrameWriter(args.frames_jsonl, ndigits=6, header=False)))
        if args.record_landmarks:
            writers.append(stack.enter_context(FrameWriter(args.record_landmarks, ndigits=None)))
        classifiers = build_classifiers(pm, mirrored=opts.mirrored)
        engine = build_engine(classifiers, instant=source.mode == "image")
        pipe = stack.enter_context(Pipeline(pm, opts, classifiers=classifiers, engine=engine, source_name=source.name))
        reader = ThreadedReader(source)
        stack.callback(reader.close)
        pipe.startup()
        stack.callback(pipe.shutdown)
        for result in pipe.run(reader, max_frames=args.max_frames):
            if not result.tail:
                for w in writers:
                    w.write(result.frame)
            for ev in result.events:
                sys.stdout.write(ev.to_json() + "\n")
            sys.stdout.flush()
            pipe.notify_events(result.events)
    if reader is not None and reader.dropped:
        print(f"gesturekit: {reader.dropped} frames dropped to keep up with the live source", file=sys.stderr)
    return 0
