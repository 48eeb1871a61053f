"""Build the shipped ASL letter model (``plugins/gesturekit_plugins/models/asl_letters.gkm``).

``python scripts/build_asl_model.py [--data ../shared/data] [--work build/asl] [--with-roboflow]``

1. imports (resumable, with gesturekit's importers) the ASL NPZ, sign_digits, hagrid_sample and
   roboflow_valid into ``--work``;
2. writes ``asl_npz_depth``: the NPZ's samples with a depth: its own relative ``z`` made into
   approximate world keypoints (image x/y and z in one unit, scaled so the palm is 8.5 cm). Only
   the synthetic signers (3D turns of the hand) and the ``vert`` features use it (the model is
   trained with ``--no-3d``), since that depth disagrees with MediaPipe's world keypoints in detail;
3. runs ``gesturekit train`` (the command goes into the model card) on the NPZ's 24 static
   letters, the sign digits and HaGRID gestures that are letter shapes, with synthetic signers;
4. measures the model on roboflow_valid (only meaningful without ``--with-roboflow``).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np

from gesturekit.learn import DatasetWriter, Sample, iter_samples, load_model, processed_sources, read_dataset
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


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", default="../shared/data")
    p.add_argument("--work", default="build/asl")
    p.add_argument("--out", default="plugins/gesturekit_plugins/models/asl_letters.gkm")
    p.add_argument("--with-roboflow", action="store_true", help="also train on roboflow_valid")
    p.add_argument("--synthetic-signers", type=int, default=4)
    p.add_argument("--estimator", default="logreg", help="svc, logreg, mlp (see gesturekit train)")
    p.add_argument("--C", default="1", help="regularization of svc/logreg")
    p.add_argument("--npz-step", type=int, default=12, help="use every N-th NPZ frame of each letter")
    args = p.parse_args(argv)
    data, work = Path(args.data).resolve(), Path(args.work)
    import_asl_npz(data / "asl/borisgraudt/asl_landmarks_AZ.npz", work / "asl_npz", progress=False)
    npz_with_depth(work / "asl_npz", work / f"asl_npz_depth_step{args.npz_step}", args.npz_step)
    import_sign_digits(data / "gestures/sign_digits", work / "sign_digits", progress=False)
    import_hagrid(data / "gestures/hagrid_sample", work / "hagrid_sample", progress=False)
    import_roboflow(data / "asl/roboflow_valid", work / "roboflow", progress=False)
    mapping = ",".join([f"{c}={c}" for c in LETTERS] + [f"{a}={b}" for a, b in SHAPES.items()])
    sets = [work / f"asl_npz_depth_step{args.npz_step}", work / "sign_digits", work / "hagrid_sample"]
    if args.with_roboflow:
        sets.append(work / "roboflow")
    cmd = ["gesturekit", "train", *map(str, sets), "--out", args.out, "--no-3d", "--augment", "none",
           "--synthetic-signers", str(args.synthetic_signers), "--estimator", args.estimator,
           *(["--C", args.C] if args.estimator in ("svc", "logreg") else []),
           "--only-mapped", "--map", mapping, "--no-progress",
           "--notes", "ASL static letters; see docs/asl.md"]
    print("$", shlex.join(cmd), flush=True)
    subprocess.run([sys.executable, "-m", "gesturekit", *cmd[1:]], check=True)
    model = load_model(args.out)
    rob = read_dataset(work / "roboflow")
    rob = rob.subset(np.isin(rob.labels, list(LETTERS)))
    pred, _ = model.predict_arrays(rob, reject=0.0)
    acc = float(np.mean(pred == rob.labels))
    print(json.dumps({"roboflow_valid_accuracy": round(acc, 4), "images_with_hand": len(rob),
                      "trained_on_roboflow": bool(args.with_roboflow)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
