"""``gesturekit record --label L --source SRC --out DATASET``: labelled hand samples from a camera, a
video or a folder of images, appended to a dataset (gesturekit.learn.dataset) through the chain.

Every sample is written and flushed as soon as it is seen, so a crash or Ctrl-C loses at most the
one being written. An image folder is resumable (files already in ``processed.jsonl`` are skipped);
a file that cannot be read is reported and skipped.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from gesturekit._exceptions import InputError
from gesturekit.cli.common import (
    add_config_options,
    add_plugin_options,
    add_tracker_options,
    positive_int,
    settings_from_args,
)
from gesturekit.sources import IMAGE_EXTENSIONS, source_kind

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="record labelled hand samples into a dataset",
                       description="Track a camera, a video or a folder of images and append every hand "
                                   "seen (every N-th frame of a video) as a labelled sample to the dataset "
                                   "folder --out. Resumable for image folders; a bad file is reported and "
                                   "skipped; Ctrl-C keeps everything recorded so far.")
    p.add_argument("--label", metavar="L", help="the label of every sample (not needed with --label-from "
                                                "folder or --labels-csv)")
    p.add_argument("--group", default="", metavar="G", help="the group (signer, session) of every sample")
    p.add_argument("--source", required=False, metavar="SRC",
                   help="camera index (0), video file, image file or folder of images")
    p.add_argument("--out", metavar="DATASET", help="the dataset folder (created if missing)")
    p.add_argument("--every", type=positive_int, default=1, metavar="N",
                   help="keep every N-th frame of a video or camera (default: 1, all)")
    p.add_argument("--max-samples", type=positive_int, default=None, metavar="N", help="stop after N samples")
    p.add_argument("--countdown", type=float, default=3.0, metavar="S",
                   help="seconds to wait before recording from a camera (default: 3)")
    p.add_argument("--label-from", choices=["folder", "none"], default="none",
                   help="folder: each image's parent folder names its label")
    p.add_argument("--labels-csv", metavar="FILE", help="a CSV with file,label[,group] columns (file relative "
                                                        "to the CSV, the source folder, or absolute)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_config_options(p)
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def _is_camera(src: str) -> bool:
    return source_kind(src) == "camera"


def _read_labels_csv(path: str, roots: list[Path]) -> dict[str, tuple[str, str]]:
    """``{resolved file: (label, group)}`` from a file,label[,group] CSV (a header row is allowed)."""
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"cannot read --labels-csv {path}: {e}") from None
    if rows and [c.strip().lower() for c in rows[0][:2]] == ["file", "label"]:
        rows = rows[1:]
    out: dict[str, tuple[str, str]] = {}
    for n, r in enumerate(rows, 1):
        if len(r) < 2 or not r[0].strip() or not r[1].strip():
            raise InputError(f"{path}: row {n}: expected file,label[,group]")
        name = r[0].strip()
        cands = [Path(name)] if os.path.isabs(name) else [root / name for root in roots]
        target = next((c for c in cands if c.exists()), cands[0])
        out[str(target.resolve())] = (r[1].strip(), r[2].strip() if len(r) > 2 else "")
    return out


def _check_args(args: argparse.Namespace) -> None:
    if not args.source:
        raise InputError("record needs --source SRC (a camera index, a video file or a folder of images)")
    if not args.out:
        raise InputError("record needs --out DATASET (the dataset folder)")
    if not _is_camera(args.source) and not os.path.exists(args.source):
        raise InputError(f"source not found: {args.source}")
    if args.labels_csv and not os.path.isfile(args.labels_csv):
        raise InputError(f"--labels-csv not found: {args.labels_csv}")
    if not args.label and args.label_from != "folder" and not args.labels_csv:
        raise InputError("record needs --label L (or --label-from folder, or --labels-csv FILE)")
    if args.countdown < 0:
        raise InputError(f"--countdown must be 0 or more, got {args.countdown}")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: a dataset is a folder, and this is a file")
    parent = next((p for p in [out, *out.parents] if p.exists()), Path("."))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"--out {out}: cannot write there (no permission on {parent})")


def _sample(hand: Any, frame: Any, label: str, group: str, source: str) -> Any:
    from gesturekit.learn.dataset import Sample

    return Sample(label=label, keypoints=hand.keypoints, keypoints3d=hand.keypoints3d, handedness=hand.handedness,
                  group=group, source=source, frame=frame.index, width=frame.width, height=frame.height,
                  extra={"track_id": hand.track_id, "score": round(float(hand.score), 4)})


class _Stats:
    def __init__(self) -> None:
        self.labels: Counter[str] = Counter()
        self.no_hand = 0
        self.failed = 0
        self.skipped = 0

    @property
    def total(self) -> int:
        return sum(self.labels.values())

    def summary(self, out: str) -> str:
        per = ", ".join(f"{k}: {v}" for k, v in sorted(self.labels.items())) or "none"
        extra = f", {self.skipped} already done" if self.skipped else ""
        extra += f", {self.failed} unreadable" if self.failed else ""
        return (f"gesturekit: {self.total} samples added ({per}), {self.no_hand} frames without a hand"
                f"{extra} -> {out}")


def _record_stream(args: argparse.Namespace, writer: Any, stats: _Stats) -> None:
    """A video file or a camera: every ``--every``-th frame's hands, labelled ``--label``."""
    from tqdm import tqdm

    from gesturekit.chain.builder import Chain

    camera = _is_camera(args.source)
    settings = settings_from_args(args, source={"uri": args.source})
    settings.sinks.clear()
    settings.observers.clear()
    source = f"camera:{args.source}" if camera else args.source
    total = None
    if not camera:
        try:
            import cv2

            cap = cv2.VideoCapture(args.source)
            total = int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) or None
            cap.release()
        except Exception:  # the count is only for the progress bar
            total = None
    with Chain(settings) as chain:
        if camera and args.countdown > 0:
            for s in range(int(round(args.countdown)), 0, -1):
                print(f"gesturekit: recording {args.label!r} in {s}...", file=sys.stderr, flush=True)
                time.sleep(args.countdown / max(1, int(round(args.countdown))))
            print("gesturekit: recording (Ctrl-C to stop)", file=sys.stderr, flush=True)
        with tqdm(total=total, unit="frame", disable=args.no_progress, file=sys.stderr,
                  desc=args.label) as bar:
            for result in chain.run():
                if result.tail:
                    continue
                bar.update(1)
                frame = result.frame
                if frame.index % args.every:
                    continue
                if not frame.hands:
                    stats.no_hand += 1
                for hand in frame.hands:
                    writer.add(_sample(hand, frame, args.label, args.group, source))
                    stats.labels[args.label] += 1
                    if args.max_samples and stats.total >= args.max_samples:
                        return
                bar.set_postfix(samples=stats.total)


def _record_images(args: argparse.Namespace, writer: Any, stats: _Stats, done: set[str]) -> None:
    """An image or a folder of images, labelled by --label, their folder or --labels-csv."""
    from tqdm import tqdm

    from gesturekit.chain.builder import Chain
    from gesturekit.learn.extract import IMAGE_EXTENSIONS
    from gesturekit.sources import read_image
    from gesturekit.sources.base import SourceItem

    root = Path(args.source)
    if root.is_dir():
        files = sorted(f for f in root.rglob("*") if f.is_file() and f.suffix.lower() in IMAGE_EXTENSIONS)
        if not files:
            raise InputError(f"no images in {root}")
    else:
        files = [root]
    table = None
    if args.labels_csv:
        roots = [Path(args.labels_csv).resolve().parent, root if root.is_dir() else root.parent]
        table = _read_labels_csv(args.labels_csv, roots)
    todo = [f for f in files if str(f) not in done]
    stats.skipped = len(files) - len(todo)
    settings = settings_from_args(args, tracker={"mode": "image"})
    settings.sinks.clear()
    settings.observers.clear()
    with Chain(settings) as chain, tqdm(total=len(todo), unit="file", disable=args.no_progress,
                                        file=sys.stderr) as bar:
        chain.start()
        for i, f in enumerate(todo):
            bar.update(1)
            name = str(f)
            if table is not None:
                lg = table.get(str(f.resolve())) or table.get(os.path.abspath(f))
                if lg is None:
                    continue  # not in the CSV: not part of this dataset
                label, group = lg[0], lg[1] or args.group
            elif args.label_from == "folder":
                label, group = f.parent.name, args.group
            else:
                label, group = args.label, args.group
            try:
                img = read_image(name)
            except Exception as e:  # a bad file is reported and skipped, never fatal
                msg = (str(e).strip().splitlines() or [type(e).__name__])[0][:300]
                tqdm.write(f"gesturekit: skipped {name}: {msg}", file=sys.stderr)
                writer.mark_processed(name, 0, msg)
                stats.failed += 1
                continue
            frame = chain.step(SourceItem(i, float(i), img, name=name)).frame
            if not frame.hands:
                stats.no_hand += 1
            n = 0
            for hand in frame.hands:
                writer.add(_sample(hand, frame, label, group, name))
                stats.labels[label] += 1
                n += 1
            writer.mark_processed(name, n)
            bar.set_postfix(samples=stats.total)
            if args.max_samples and stats.total >= args.max_samples:
                return


def run(args: argparse.Namespace) -> int:
    from gesturekit.learn.dataset import DatasetWriter, processed_sources

    _check_args(args)
    if args.label is None:
        args.label = ""
    stream = _is_camera(args.source) or (os.path.isfile(args.source)
                                         and Path(args.source).suffix.lower() not in _image_exts())
    if stream and not args.label:
        raise InputError("record needs --label L for a camera or a video")
    done = processed_sources(args.out) if Path(args.out).is_dir() else set()
    stats = _Stats()
    code = 0
    try:
        writer = DatasetWriter(args.out, origin="gesturekit record")
    except OSError as e:
        raise InputError(f"--out {args.out}: cannot write the dataset ({e.strerror or e})") from None
    with writer:
        try:
            if stream:
                _record_stream(args, writer, stats)
            else:
                _record_images(args, writer, stats, done)
        except KeyboardInterrupt:
            print(f"\ngesturekit: interrupted; {writer.count} samples saved", file=sys.stderr)
            code = 130
    print(stats.summary(args.out), file=sys.stderr)
    return code


def _image_exts() -> tuple[str, ...]:
    return IMAGE_EXTENSIONS
