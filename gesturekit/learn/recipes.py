"""Reproducible recipes for the shipped models: one command imports, trains, evaluates, writes.

``python -m gesturekit.learn.recipes hagrid [--data ../shared/data] [--work DIR] [--out FILE]``

- imports (resumable, into ``--work``) ``gestures/hagrid_sample`` (all splits),
  ``gestures/sign_digits`` and Kazuhito00's ``keypoint.csv`` + kinivi's OK rows;
- trains on HaGRID's ``train`` people, the sign digits whose sign is a HaGRID gesture and the
  Kazuhito00/kinivi rows whose class is one (:data:`HAGRID_TRAIN_MAP`);
- evaluates the model and the YAML rule library on HaGRID's ``test``/``val`` people (never seen in
  training: HaGRID splits by person), over the annotated gesture hands the tracker found;
- writes the model file with the figures in its card, and a Markdown card beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from pathlib import Path
from typing import Any

from gesturekit.learn.augment import Augment, parse_augment
from gesturekit.learn.dataset import SampleArrays, read_dataset
from gesturekit.learn.evaluate import evaluate_model, evaluate_rules
from gesturekit.learn.importers import import_hagrid, import_keypoint_csv, import_sign_digits
from gesturekit.learn.model import LearnedModel, map_labels, train_model
from gesturekit.learn.training_data import filter_groups

__all__ = ["HAGRID_TRAIN_MAP", "HAGRID_RULES_MAP", "hagrid_datasets", "build_hagrid", "main"]

#: Labels of the extra training sets -> HaGRID classes (unlisted labels are left out).
HAGRID_TRAIN_MAP: dict[str, str] = {
    # gestures/sign_digits (ASL number signs)
    "1": "one", "2": "peace", "3": "three2", "4": "four", "5": "palm", "6": "three", "9": "ok",
    # Kazuhito00 keypoint.csv + kinivi OK rows
    "Open": "palm", "Close": "fist", "Pointer": "one", "OK": "ok",
}
#: HaGRID class -> YAML library gesture, for comparing with the rules (``mute`` has none).
HAGRID_RULES_MAP: dict[str, str] = {
    "call": "call", "dislike": "thumbs_down", "fist": "fist", "four": "four", "like": "thumbs_up", "ok": "ok",
    "one": "pointing_up", "palm": "open_palm", "peace": "victory", "peace_inverted": "victory", "rock": "rock",
    "stop": "stop", "stop_inverted": "stop", "three": "three", "three2": "three", "two_up": "two_up",
    "two_up_inverted": "two_up",
}
HAGRID_CLASSES = ("call", "dislike", "fist", "four", "like", "mute", "ok", "one", "palm", "peace", "peace_inverted",
                  "rock", "stop", "stop_inverted", "three", "three2", "two_up", "two_up_inverted")
DEFAULT_DATA = Path(os.environ.get("GESTUREKIT_DATA", "../shared/data"))


def hagrid_datasets(data: str | os.PathLike, work: str | os.PathLike, progress: bool = True) -> dict[str, Path]:
    """Import (or resume importing) the recipe's datasets into ``work``; their folders by name."""
    data, work = Path(data), Path(work)
    out = {"hagrid": work / "hagrid_sample", "digits": work / "sign_digits", "kazuhito": work / "kazuhito00"}
    import_hagrid(data / "gestures" / "hagrid_sample", out["hagrid"], progress=progress)
    import_sign_digits(data / "gestures" / "sign_digits", out["digits"], progress=progress)
    import_keypoint_csv([data / "landmarks" / "kazuhito00" / "keypoint.csv",
                         data / "landmarks" / "kinivi_ok" / "keypoint_OK_class_rows.csv"], out["kazuhito"],
                        progress=progress)
    return out


def dedupe(arrays: SampleArrays) -> SampleArrays:
    """Drop repeated rows (same source, frame, label and keypoints): a dataset folder that two
    imports appended to at once holds every hand twice, which inflates the test set."""
    import numpy as np

    seen: set[tuple] = set()
    keep = np.zeros(len(arrays), dtype=bool)
    for i, (s, f, lab, kp) in enumerate(zip(arrays.sources.tolist(), arrays.frames.tolist(), arrays.labels.tolist(),
                                            arrays.keypoints, strict=True)):
        key = (s, f, lab, np.round(kp, 5).tobytes())
        if key not in seen:
            seen.add(key)
            keep[i] = True
    return arrays.subset(keep)


def hagrid_split(hagrid: SampleArrays) -> tuple[SampleArrays, SampleArrays]:
    """HaGRID's ``train`` people and its ``test``/``val`` people (groups ``train:...`` vs user ids),
    repeated rows dropped; a test set with more hands than test/val photos is refused."""
    hagrid = dedupe(hagrid)
    train, test = filter_groups(hagrid, groups=r"^train:"), filter_groups(hagrid, exclude=r"^train:")
    if len(set(train.sources.tolist()) & set(test.sources.tolist())):
        raise ValueError("HaGRID split: a photo is on both sides")
    return train, test


def build_hagrid(data: str | os.PathLike, work: str | os.PathLike, *, estimator: str = "logreg", seed: int = 0,
                 extras: bool = True, augmentation: Augment | None = None, rules: bool = True, progress: bool = True,
                 command: str | None = None) -> tuple[LearnedModel, dict[str, Any]]:
    """Train the HaGRID model and evaluate it (and the rules) on HaGRID's test/val people."""
    ds = hagrid_datasets(data, work, progress)
    train_h, test = hagrid_split(read_dataset(ds["hagrid"]))
    parts = [train_h]
    data_card = [{"path": "gestures/hagrid_sample (split train)", "samples": len(train_h),
                  "origin": "hukenovs/hagrid via Shadowfax221/553.806_Capstone_HandGesture @607e157; HaGRID licence "
                            "(reworked CC BY-SA 4.0)"}]
    if extras:
        dig = map_labels(dedupe(read_dataset(ds["digits"])), HAGRID_TRAIN_MAP, keep_unmapped=False)
        kaz = map_labels(dedupe(read_dataset(ds["kazuhito"])), HAGRID_TRAIN_MAP, keep_unmapped=False)
        parts += [dig, kaz]
        data_card += [
            {"path": "gestures/sign_digits (digits 1,2,3,4,5,6,9 mapped)", "samples": len(dig),
             "origin": "ardamavi/Sign-Language-Digits-Dataset @4b09433, Apache-2.0"},
            {"path": "landmarks/kazuhito00/keypoint.csv + landmarks/kinivi_ok (Open, Close, Pointer, OK mapped)",
             "samples": len(kaz),
             "origin": "Kazuhito00/hand-gesture-recognition-using-mediapipe and kinivi/hand-gesture-recognition-"
                       "mediapipe, Apache-2.0"}]
    model = train_model(SampleArrays.concat(parts), estimator=estimator, reject=0.5, seed=seed, use_3d=True,
                        augmentation=augmentation,
                        data=data_card, progress=progress, command=command,
                        notes="Static HaGRID gestures of one hand. Landmarks from gesturekit's tracker (MediaPipe "
                              "hand landmarker 0.10.21, full model, image mode). Figures: HaGRID test/val people, "
                              "never seen in training, over the annotated gesture hands the tracker found.")
    report = evaluate_model(model, test, reject=0.0, group_by=False)
    rej = evaluate_model(model, test, group_by=False)
    figures: dict[str, Any] = {
        "test_people": {"set": "gestures/hagrid_sample split test+val (person-disjoint from train)",
                        "hands": report["samples"], "accuracy": report["accuracy"],
                        "accuracy_with_reject": rej["accuracy"], "accepted_with_reject": rej["accepted"],
                        "per_class": report["per_class"]}}
    if rules:
        r = evaluate_rules(test, HAGRID_RULES_MAP)
        figures["yaml_rules_same_hands"] = {
            "map": HAGRID_RULES_MAP, "hands": r["samples"], "accuracy": r["accuracy"],
            "per_gesture": r["per_class"],
            "note": "the YAML library on the same hands (mute has no rule and is left out; classes that share "
                    "a gesture, e.g. peace and peace_inverted, count as one)"}
    model.card["figures"] = figures
    return model, {"model": report, "rules": figures.get("yaml_rules_same_hands")}


def model_card_markdown(model: LearnedModel) -> str:
    """A Markdown rendering of a model card."""
    c = model.card
    f = c.get("figures", {}).get("test_people", {})
    lines = [f"# Model card: {c.get('name', 'hagrid')}", "", c.get("notes", ""), "",
             f"- classes: {', '.join(c['classes'])}", f"- feature version: `{c['feature_version']}`",
             f"- estimator: {c['estimator']} (reject below {c['reject']})",
             f"- made with: `{c['command']}`", f"- created: {c['created']}", "", "## Training data", ""]
    lines += [f"- {d['path']}: {d['samples']} hands; origin: {d['origin']}" for d in c["training"]["data"]]
    if f:
        lines += ["", "## Figures (HaGRID test/val people, never seen in training)", "",
                  f"Accuracy {f['accuracy']:.4f} over {f['hands']} found gesture hands (no reject); with the "
                  f"reject threshold {f['accuracy_with_reject']:.4f} ({f['accepted_with_reject']:.3f} accepted).",
                  "", "| class | precision | recall | n |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |"
                  for k, v in f["per_class"].items()]
    r = c.get("figures", {}).get("yaml_rules_same_hands")
    if r:
        lines += ["", f"The YAML rule library on the same hands: accuracy {r['accuracy']:.4f} over {r['hands']} "
                      f"hands ({r['note']})."]
        lines += ["", "| YAML gesture | precision | recall | n |", "|---|---|---|---|"]
        lines += [f"| {k} | {v['precision']:.3f} | {v['recall']:.3f} | {v['support']} |"
                  for k, v in r.get("per_gesture", {}).items()]
    lines += ["", "Licence of the training data: HaGRID's (reworked CC BY-SA 4.0: attribution, share-alike); "
                  "sign digits and Kazuhito00/kinivi: Apache-2.0. This model is derived from them.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m gesturekit.learn.recipes",
                                description="Rebuild a shipped model from the shared data, with its figures.")
    p.add_argument("recipe", choices=("hagrid",))
    p.add_argument("--data", default=str(DEFAULT_DATA), help="the shared data folder (default: ../shared/data)")
    p.add_argument("--work", default="build/learn", help="where the imported datasets go (resumable)")
    p.add_argument("--out", default=None, help="model file (default: gesturekit/learn/models/hagrid.gkm)")
    p.add_argument("--estimator", default="logreg")
    p.add_argument("--augment", default="none", help="augmentation spec (none, default, copies=N,...)")
    p.add_argument("--no-extras", action="store_true", help="train on HaGRID train people only")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = p.parse_args(argv)
    out = Path(args.out or Path(__file__).parent / "models" / "hagrid.gkm")
    command = shlex.join(["python", "-m", "gesturekit.learn.recipes", *(argv if argv is not None else sys.argv[1:])])
    model, rep = build_hagrid(args.data, args.work, estimator=args.estimator, extras=not args.no_extras,
                              augmentation=parse_augment(args.augment),
                              progress=sys.stderr.isatty(), command=command)
    model.card["name"] = "hagrid"
    model.save(out)
    out.with_suffix(".md").write_text(model_card_markdown(model), encoding="utf-8")
    f = model.card["figures"]
    if args.json:
        print(json.dumps(f, allow_nan=False))
    else:
        t = f["test_people"]
        print(f"{out}: accuracy {t['accuracy']:.4f} on {t['hands']} hands of HaGRID test/val people")
        if "yaml_rules_same_hands" in f:
            r = f["yaml_rules_same_hands"]
            print(f"YAML rules on the same hands: {r['accuracy']:.4f} ({r['hands']} hands)")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
