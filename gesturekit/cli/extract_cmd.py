"""``gesturekit extract INPUTS... --out DATASET``: landmarks of folders of videos and images into a
dataset (gesturekit.learn.dataset), on a local process pool or a Ray cluster; resumable."""

from __future__ import annotations

import argparse
import sys

from gesturekit.cli.common import positive_int

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("extract", help="landmarks of videos and images into a dataset",
                       description="Track every image and video in INPUTS (files or folders, searched "
                                   "recursively) and append their hands to the dataset folder --out. "
                                   "Resumable: files already in its processed.jsonl are skipped. A bad file "
                                   "is reported and skipped.")
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or video files, or folders of them")
    p.add_argument("--out", required=True, metavar="DATASET", help="the dataset folder (created if missing)")
    p.add_argument("--workers", type=positive_int, default=None, metavar="N",
                   help="worker processes (local) or concurrent tasks (ray) (default: the CPU cores)")
    p.add_argument("--backend", choices=["local", "ray"], default="local",
                   help="local: a process pool; ray: tasks on a Ray cluster (pip install 'gesturekit[ray]')")
    p.add_argument("--ray-address", metavar="ADDR", default=None,
                   help="the Ray cluster (ray.init(address=...)); default: a local Ray")
    p.add_argument("--label-from", choices=["folder", "none"], default="folder",
                   help="folder: each file's parent folder names its label; none: no label")
    p.add_argument("--model", choices=["lite", "full"], default="full", help="hand landmark model (default: full)")
    p.add_argument("--max-hands", type=positive_int, default=2, metavar="N", help="most hands per image (default: 2)")
    p.add_argument("--every", type=positive_int, default=1, metavar="N",
                   help="keep every N-th frame of a video (default: 1, all)")
    p.add_argument("--max-pixels", type=int, default=None, metavar="N",
                   help="refuse images larger than N pixels (0 = no limit; default: the documented limit)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gesturekit.learn.extract import extract

    res = extract(args.inputs, args.out, workers=args.workers, backend=args.backend, label_from=args.label_from,
                  model=args.model, max_hands=args.max_hands, every=args.every, ray_address=args.ray_address,
                  max_pixels=args.max_pixels, progress=not args.no_progress)
    print(f"gesturekit: {res.done} files processed ({res.samples} samples), {res.skipped} already done, "
          f"{res.failed} failed -> {args.out}", file=sys.stderr)
    return 0
