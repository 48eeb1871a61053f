"""``gesturekit import FORMAT SRC --out DATASET``: build a labelled landmark dataset from a public
landmark file or a labelled image set (resumable: run it again to finish an interrupted import)."""

from __future__ import annotations

import argparse
import sys

from gesturekit.learn.dataset import dataset_info, processed_sources
from gesturekit.learn.importers import IMPORTERS, import_dataset

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="build a labelled landmark dataset from a landmark file or labelled images",
                       description="Import a labelled landmark file or image set into a gesturekit dataset folder "
                                   "(append-only; an interrupted import resumes). Formats: asl-npz (borisgraudt "
                                   "asl_landmarks_AZ.npz), keypoint-csv (Kazuhito00 keypoint.csv, kinivi OK rows), "
                                   "roboflow (asl/roboflow_valid), hagrid (gestures/hagrid_sample), sign-digits "
                                   "(gestures/sign_digits), image-folder (FOLDER/<label>/*.jpg), image-csv "
                                   "(file,label[,group] CSV). Image formats run the tracker on every photo.")
    p.add_argument("format", choices=sorted(IMPORTERS), metavar="FORMAT", help=", ".join(sorted(IMPORTERS)))
    p.add_argument("src", nargs="+", metavar="SRC", help="the file or folder to import (keypoint-csv: several)")
    p.add_argument("--out", "-o", required=True, metavar="DATASET", help="the dataset folder to append to")
    p.add_argument("--group", default=None, metavar="G",
                   help="group of every sample (asl-npz, image-folder, image-csv)")
    p.add_argument("--split", action="append", default=None, metavar="SPLIT",
                   help="hagrid: import only these splits (train, val, test; repeatable)")
    p.add_argument("--pad", type=int, default=None, metavar="PX",
                   help="image formats: pad each photo by PX pixels before tracking (sign-digits: 30)")
    p.add_argument("--model", choices=("lite", "full"), default="full", help="tracker model for image formats")
    p.add_argument("--no-mirror", action="store_true", help="asl-npz: keep the file's left-right orientation")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.format
    opts: dict = {"progress": not args.no_progress and sys.stderr.isatty()}
    if fmt == "asl-npz":
        opts["mirror"] = not args.no_mirror
        if args.group:
            opts["group"] = args.group
    elif fmt != "keypoint-csv":
        opts["model"] = args.model
        if args.pad is not None:
            opts["pad"] = args.pad
        if fmt == "hagrid" and args.split:
            opts["splits"] = args.split
        if fmt in ("image-folder", "image-csv") and args.group:
            opts["group"] = args.group
    added = import_dataset(fmt, args.src if fmt == "keypoint-csv" else args.src, args.out, **opts)
    info = dataset_info(args.out)
    print(f"{args.out}: {added} samples added ({len(processed_sources(args.out))} inputs done; "
          f"origins: {', '.join(info.get('origins', []))})")
    return 0
