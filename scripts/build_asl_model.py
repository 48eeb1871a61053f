"""Build the shipped ASL letter model (``plugins/gesturekit_plugins/models/asl_letters.gkm``).

``python scripts/build_asl_model.py [--data ../shared/data] [--work build/asl] [--with-roboflow]``

1. imports (resumable, with gesturekit's importers) the ASL NPZ, sign_digits, hagrid_sample and
   roboflow_valid into ``--work``;
2. writes ``asl_npz_depth``: the NPZ's samples with a depth: its own relative ``z`` made into
   approximate world keypoints (image x/y and z in one unit, scaled so the palm is 8.5 cm). Only
   the synthetic signers (3D turns of the hand) and the ``vert`` features use it (the model is
   trained with ``--no-3d``), since that depth disagrees with MediaPipe's world keypoints in detail;
3. trains (``gesturekit.learn.train_model``'s recipe, this script's command in the card) on the
   NPZ's 24 static letters, the sign digits and HaGRID gestures that are letter shapes, with
   synthetic signers, on the feature blocks of ``--blocks`` only (default ``dist2,vert``: the
   fingertip/joint distances and the vertical directions, the blocks that measured best across
   signers); the fitted model is written in the full feature layout (0 weight on the other
   columns), so ``load_model`` and ``gesturekit eval`` read it like any other model;
4. measures the model on roboflow_valid (only meaningful without ``--with-roboflow``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from gesturekit.learn import (
    DatasetWriter,
    LearnedModel,
    Sample,
    iter_samples,
    load_model,
    processed_sources,
    read_dataset,
)
from gesturekit.learn.importers import import_asl_npz, import_hagrid, import_roboflow, import_sign_digits

LETTERS = "ABCDEFGHIKLMNOPQRSTUVWXY"
#: labels of the other datasets that are ASL letter shapes
SHAPES = {"0": "O", "2": "V", "6": "W", "9": "F", "four": "B", "peace": "V", "call": "Y", "ok": "F",
          "three2": "W", "two_up": "U"}
PALM_M = 0.085


def npz_with_depth(src: Path, out: Path, step: int) -> None:
    """Every ``step``-th frame of each static letter of the NPZ dataset (consecutive frames are
    near-duplicates), with approximate world keypoints from its relative depth (resumable)."""
    if processed_sources(out):
        return
    seen: dict[str, int] = {}
    with DatasetWriter(out, origin=f"asl-npz with its relative depth, every {step}th frame") as wr:
        n = 0
        for s in iter_samples(src):
            if s.label not in LETTERS or "z" not in s.extra:
                continue
            seen[s.label] = seen.get(s.label, 0) + 1
            if (seen[s.label] - 1) % step:
                continue
            z = np.asarray(s.extra["z"], dtype=np.float64) * s.width  # normalized z ~ the x scale
            p = np.concatenate([s.keypoints, z[:, None]], axis=1)
            palm = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean()
            world = (p - p[[5, 9, 13, 17]].mean(axis=0)) * (PALM_M / max(palm, 1e-9))
            wr.add(Sample(s.label, s.keypoints, world, s.handedness, s.group, s.source, s.frame, s.width,
                          s.height, {"depth": "npz relative z, approximate metres"}))
            n += 1
        wr.mark_processed(str(src), n)


def train_blocks(train, args: argparse.Namespace, command: str, data: list) -> LearnedModel:
    """A ``logreg`` model on the columns of ``args.blocks`` (synthetic signers added first), embedded
    in the full feature layout: scaler mean 0 / scale 1 and weight 0 on every other column."""
    from gesturekit.learn import SampleArrays, synth
    from gesturekit.learn.features import FEATURE_VERSION, block_columns, hand_features
    from gesturekit.learn.model import make_pipeline

    blocks = [b for b in args.blocks.split(",") if b]
    cols = block_columns(blocks)
    full = SampleArrays.concat([train, synth.synthetic_signers(train, args.synthetic_signers, 0)])
    x = hand_features(full.keypoints, full.keypoints3d, full.handedness, full.sizes, use_3d=False)
    pipe = make_pipeline(args.estimator, 0, **({"C": float(args.C)} if args.estimator in ("svc", "logreg") else {}))
    pipe.fit(x[:, cols], full.labels)
    if args.estimator != "logreg":
        raise SystemExit("--blocks embedding supports --estimator logreg only")
    f = x.shape[1]
    scaler, est = pipe.steps[0][1], pipe.steps[1][1]
    for name, fill in (("mean_", 0.0), ("var_", 1.0), ("scale_", 1.0)):
        v = np.full(f, fill)
        v[cols] = getattr(scaler, name)
        setattr(scaler, name, v)
    coef = np.zeros((est.coef_.shape[0], f))
    coef[:, cols] = est.coef_
    est.coef_ = coef
    scaler.n_features_in_ = est.n_features_in_ = f
    u, c = np.unique(train.labels, return_counts=True)
    card = {"format": 1, "kind": "gesturekit learned hand classifier", "classes": [str(k) for k in pipe.classes_],
            "feature_version": FEATURE_VERSION, "use_3d": False, "feature_blocks": blocks,
            "estimator": args.estimator, "params": {"C": float(args.C)}, "reject": 0.5,
            "augment": {"copies": 0}, "synthetic_signers": int(args.synthetic_signers), "seed": 0,
            "training": {"samples": len(train), "after_augmentation": len(full),
                         "groups": int(len(np.unique(train.groups))),
                         "per_class": {str(a): int(b) for a, b in zip(u, c, strict=True)}, "data": data},
            "command": command, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "figures": {}, "notes": "ASL static letters; see docs/asl.md"}
    return LearnedModel(pipe, card)


def eval_npz_signer(work: Path, args: argparse.Namespace) -> int:
    """Leave-one-signer-out for the NPZ signer, with the shipped recipe's settings."""
    from gesturekit.learn import Augment, SampleArrays, train_model
    from gesturekit.learn.model import map_labels

    mapping = {**{c: c for c in LETTERS}, **SHAPES}
    test = map_labels(read_dataset(work / f"asl_npz_depth_step{args.npz_step}"), mapping, keep_unmapped=False)
    train = SampleArrays.concat([map_labels(read_dataset(work / k), mapping, keep_unmapped=False)
                                 for k in ("sign_digits", "hagrid_sample", "roboflow")])
    if args.blocks:
        model = train_blocks(train, args, "", [])
    else:
        model = train_model(train, estimator=args.estimator, params={"C": float(args.C)},
                            augmentation=Augment(copies=0), synthetic_signers=args.synthetic_signers, use_3d=False)
    pred, _ = model.predict_arrays(test, reject=0.0)
    per = {c: f"{int(((pred == c) & (test.labels == c)).sum())}/{int((test.labels == c).sum())}" for c in LETTERS}
    print(json.dumps({"npz_signer_held_out_accuracy": round(float(np.mean(pred == test.labels)), 4),
                      "samples": len(test), "per_letter": per}))
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--work", default="build/asl")
    p.add_argument("--out", default="plugins/gesturekit_plugins/models/asl_letters.gkm")
    p.add_argument("--with-roboflow", action="store_true", help="also train on roboflow_valid")
    p.add_argument("--eval-npz-signer", action="store_true",
                   help="instead: leave the NPZ signer out (train on roboflow + letter shapes + synthetic "
                        "signers with the same recipe) and report accuracy on the NPZ signer")
    p.add_argument("--synthetic-signers", type=int, default=4)
    p.add_argument("--estimator", default="logreg", help="svc, logreg, mlp (see gesturekit train)")
    p.add_argument("--C", default="1", help="regularization of svc/logreg")
    p.add_argument("--blocks", default="dist2,vert",
                   help="feature blocks the model reads (comma-separated; '' = all, via gesturekit train)")
    p.add_argument("--npz-step", type=int, default=12, help="use every N-th NPZ frame of each letter")
    args = p.parse_args(argv)
    data, work = Path(args.data).resolve(), Path(args.work)
    import_asl_npz(data / "asl/borisgraudt/asl_landmarks_AZ.npz", work / "asl_npz", progress=False)
    npz_with_depth(work / "asl_npz", work / f"asl_npz_depth_step{args.npz_step}", args.npz_step)
    import_sign_digits(data / "gestures/sign_digits", work / "sign_digits", progress=False)
    import_hagrid(data / "gestures/hagrid_sample", work / "hagrid_sample", progress=False)
    import_roboflow(data / "asl/roboflow_valid", work / "roboflow", progress=False)
    if args.eval_npz_signer:
        return eval_npz_signer(work, args)
    mapping = ",".join([f"{c}={c}" for c in LETTERS] + [f"{a}={b}" for a, b in SHAPES.items()])
    sets = [work / f"asl_npz_depth_step{args.npz_step}", work / "sign_digits", work / "hagrid_sample"]
    if args.with_roboflow:
        sets.append(work / "roboflow")
    cmd = ["gesturekit", "train", *map(str, sets), "--out", args.out, "--no-3d", "--augment", "none",
           "--synthetic-signers", str(args.synthetic_signers), "--estimator", args.estimator,
           *(["--C", args.C] if args.estimator in ("svc", "logreg") else []),
           "--only-mapped", "--map", mapping, "--no-progress",
           "--notes", "ASL static letters; see docs/asl.md"]
    if args.blocks:
        from gesturekit.learn import SampleArrays
        from gesturekit.learn.model import map_labels

        m = {**{c: c for c in LETTERS}, **SHAPES}
        parts = [map_labels(read_dataset(d), m, keep_unmapped=False) for d in sets]
        train = SampleArrays.concat(parts)
        command = shlex.join(["python", "scripts/build_asl_model.py", *(argv if argv is not None else sys.argv[1:])])
        data = [{"path": str(d), "samples": len(a)} for d, a in zip(sets, parts, strict=True)]
        train_blocks(train, args, command, data).save(args.out)
    else:
        print("$", shlex.join(cmd), flush=True)
        subprocess.run([sys.executable, "-m", "gesturekit", *cmd[1:]], check=True)
    model = load_model(args.out)
    rob = read_dataset(work / "roboflow")
    rob = rob.subset(np.isin(rob.labels, list(LETTERS)))
    pred, score = model.predict_arrays(rob, reject=0.0)
    acc = float(np.mean(pred == rob.labels))
    ok = score >= model.reject
    print(json.dumps({"roboflow_valid_accuracy": round(acc, 4), "images_with_hand": len(rob),
                      f"accept_rate_at_{model.reject}": round(float(ok.mean()), 4),
                      "accuracy_over_accepted": round(float(np.mean(pred[ok] == rob.labels[ok])), 4),
                      "trained_on_roboflow": bool(args.with_roboflow)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
