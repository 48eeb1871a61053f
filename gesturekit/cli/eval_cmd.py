"""``gesturekit eval DATASET... --model MODEL | --cv logo | --rules``: accuracy on labelled samples.

``--model`` evaluates a trained model file on held-out samples; ``--cv`` retrains a recipe once
per held-out group (people never seen); ``--rules`` runs the YAML gesture library on the same
samples (``--map label=gesture``), so that rules and models are compared on the same hands.
"""

from __future__ import annotations

import argparse
import json
import sys

from gesturekit._exceptions import InputError
from gesturekit.cli.train_cmd import add_data_options
from gesturekit.learn.augment import parse_augment
from gesturekit.learn.model import ESTIMATORS, load_model, parse_label_map
from gesturekit.learn.training_data import load_training_data

__all__ = ["add_parser", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("eval", help="evaluate a model file, a training recipe (--cv) or the YAML rules on datasets",
                       description="Evaluate on labelled datasets: a model file (--model) on held-out samples, a "
                                   "training recipe by group cross-validation (--cv logo: retrain without each "
                                   "group in turn), or the YAML rule library (--rules with --map label=gesture). "
                                   "Per-class precision/recall, per-group accuracy, a confusion matrix.")
    p.add_argument("datasets", nargs="+", metavar="DATASET", help="dataset folders")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", "-m", metavar="MODEL", help="a model file or a shipped model name (hagrid, asl)")
    what.add_argument("--cv", choices=("logo", "groups"),
                      help="cross-validate the recipe: logo = leave one group out (group folds past 20 groups)")
    what.add_argument("--rules", action="store_true", help="evaluate the YAML rule library (needs --map)")
    p.add_argument("--group-by", choices=("group", "none"), default="group",
                   help="per-group figures by the samples' group (default) or none")
    p.add_argument("--folds", type=int, default=None, metavar="K",
                   help="--cv: number of group folds (0 = one per group)")
    p.add_argument("--reject", type=float, default=None, metavar="P", help="override the model's reject threshold")
    p.add_argument("--gestures", action="append", default=[], metavar="PATH",
                   help="--rules: your YAML gesture files beside the built-in library")
    p.add_argument("--json", action="store_true", help="print the report as one strict JSON object")
    p.add_argument("--plot", metavar="PNG", help="write the confusion matrix as a PNG")
    r = p.add_argument_group("recipe (--cv)")
    r.add_argument("--estimator", choices=ESTIMATORS, default="svc")
    r.add_argument("--augment", default="default", metavar="SPEC")
    r.add_argument("--no-3d", action="store_true")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--synthetic-signers", type=int, default=0, metavar="N")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_data_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gesturekit.learn.evaluate import cross_validate, evaluate_model, evaluate_rules, format_report, plot_confusion

    mapping = parse_label_map(args.map)
    if args.rules:
        arrays, _ = load_training_data(args.datasets, None, groups=args.groups, exclude_groups=args.exclude_groups)
        from gesturekit.classifiers.rules import RulesClassifier, load_library

        report = evaluate_rules(arrays, mapping, RulesClassifier(load_library(args.gestures)))
    else:
        arrays, _ = load_training_data(args.datasets, mapping, only_mapped=args.only_mapped, groups=args.groups,
                                       exclude_groups=args.exclude_groups)
        if args.model:
            model = load_model(args.model)
            report = evaluate_model(model, arrays, reject=args.reject, group_by=args.group_by == "group")
            report["model"] = {"path": str(args.model), "classes": list(model.classes),
                               "feature_version": model.card.get("feature_version")}
        else:
            if args.reject is not None and not 0 <= args.reject <= 1:
                raise InputError(f"--reject must be within 0..1, got {args.reject}")
            report = cross_validate(arrays, folds=args.folds, progress=not args.no_progress and sys.stderr.isatty(),
                                    estimator=args.estimator, reject=0.5 if args.reject is None else args.reject,
                                    augmentation=parse_augment(args.augment), use_3d=not args.no_3d, seed=args.seed,
                                    synthetic_signers=args.synthetic_signers)
    if args.group_by == "none":
        report.pop("by_group", None)
    report["datasets"] = list(args.datasets)
    if args.plot:
        plot_confusion(report, args.plot)
        report["plot"] = args.plot
    if args.json:
        sys.stdout.write(json.dumps(report, allow_nan=False) + "\n")
    else:
        format_report(report)
        if args.plot:
            print(f"confusion matrix: {args.plot}")
    return 0
