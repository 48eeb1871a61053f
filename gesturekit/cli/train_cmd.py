"""``gesturekit train DATASET... --out MODEL``: fit a learned hand classifier on labelled datasets."""

from __future__ import annotations

import argparse
import shlex
import sys

from gesturekit.cli.common import positive_int
from gesturekit.learn.augment import parse_augment
from gesturekit.learn.model import ESTIMATORS, parse_label_map, train_model
from gesturekit.learn.training_data import load_training_data

__all__ = ["add_parser", "run", "add_data_options"]


def add_data_options(p: argparse.ArgumentParser) -> None:
    """``--map``, ``--groups``, ``--exclude-groups`` (shared by train and eval)."""
    p.add_argument("--map", action="append", default=[], metavar="FROM=TO[,...]",
                   help="rename labels before use (TO '-' drops the label); repeatable")
    p.add_argument("--only-mapped", action="store_true", help="drop samples whose label --map does not name")
    p.add_argument("--groups", default=None, metavar="REGEX", help="use only samples whose group matches")
    p.add_argument("--exclude-groups", default=None, metavar="REGEX", help="leave out samples whose group matches")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train a learned classifier on labelled landmark datasets",
                       description="Train a scikit-learn classifier (standardized shared hand features, "
                                   "augmentation, calibrated probabilities, a reject threshold) on one or more "
                                   "datasets (see `gesturekit record` and `gesturekit import`). The model file "
                                   "loads without executing code and carries its card.")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help="dataset folders")
    p.add_argument("--out", "-o", required=True, metavar="MODEL", help="model file to write (e.g. mine.gkm)")
    p.add_argument("--estimator", choices=ESTIMATORS, default="svc", help="the classifier (default: svc)")
    p.add_argument("--reject", type=float, default=0.5, metavar="P",
                   help="say 'none' when the top probability is below P (default 0.5)")
    p.add_argument("--augment", default="default", metavar="SPEC",
                   help="none, default, or copies=N,rotate=DEG,scale=F,noise=F,joint=DEG")
    p.add_argument("--synthetic-signers", type=int, default=0, metavar="N",
                   help="add N synthetic signers (varied hand proportions) before augmenting")
    p.add_argument("--no-3d", action="store_true",
                   help="ignore world keypoints (for models that must serve 2D-only data)")
    p.add_argument("--seed", type=int, default=0, help="random seed (augmentation, estimator)")
    p.add_argument("--C", dest="C", type=float, default=None, help="regularization of svc/logreg")
    p.add_argument("--max-per-class", type=positive_int, default=None, metavar="N",
                   help="use at most N samples per class (evenly spaced)")
    p.add_argument("--notes", default="", help="free text for the model card")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_data_options(p)
    p.set_defaults(func=run)


def _command(args: argparse.Namespace) -> str:
    """The command line that made the model (for its card), rebuilt from the parsed options."""
    words = ["gesturekit", "train", *args.datasets, "--out", args.out, "--estimator", args.estimator,
             "--reject", str(args.reject), "--augment", args.augment, "--seed", str(args.seed)]
    for flag, value in (("--synthetic-signers", args.synthetic_signers or None), ("--C", args.C),
                        ("--max-per-class", args.max_per_class), ("--groups", args.groups),
                        ("--exclude-groups", args.exclude_groups)):
        if value is not None:
            words += [flag, str(value)]
    for m in args.map:
        words += ["--map", m]
    words += ["--only-mapped"] * bool(args.only_mapped) + ["--no-3d"] * bool(args.no_3d)
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    if args.synthetic_signers < 0:
        from gesturekit._exceptions import InputError

        raise InputError("--synthetic-signers must be >= 0")
    arrays, data = load_training_data(args.datasets, parse_label_map(args.map), only_mapped=args.only_mapped,
                                      groups=args.groups, exclude_groups=args.exclude_groups,
                                      max_per_class=args.max_per_class)
    params = {"C": args.C} if args.C is not None else {}
    model = train_model(arrays, estimator=args.estimator, reject=args.reject, augmentation=parse_augment(args.augment),
                        synthetic_signers=args.synthetic_signers, seed=args.seed, use_3d=not args.no_3d,
                        params=params, progress=not args.no_progress and sys.stderr.isatty(), data=data,
                        command=_command(args),
                        notes=args.notes)
    model.save(args.out)
    t = model.card["training"]
    print(f"{args.out}: {len(model.classes)} classes ({', '.join(model.classes)}), {t['samples']} samples "
          f"({t['after_augmentation']} after augmentation), {t['groups']} groups, {t['seconds']} s")
    return 0
