"""Cost of the ``asl`` classifier per hand (features + predict) against the tracker's frame time.

``python benchmarks/bench_asl.py [--frames 60]``: times the classifier on the real clip's golden
landmarks (one hand per frame, as in a live stream) and the MediaPipe tracker (full model, video
mode) on the clip's frames; prints medians (timings on a shared machine are noisy).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from gesturekit.values import Frame, Hand

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "tracking"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--frames", type=int, default=60, help="frames to time the tracker on")
    p.add_argument("--data", default=str(DATA))
    args = p.parse_args()
    from gesturekit_plugins.asl_classifier import ASLClassifier

    from gesturekit.learn.features import dist_vert_features

    kp = np.array(json.loads((Path(args.data) / "asl_hand.full.json").read_text()))[:, :, :2]
    k3 = np.array(json.loads((Path(args.data) / "asl_hand_3d.full.json").read_text()))
    frames = [Frame(index=i, t=i / 25, width=620, height=1080, source="asl_hand",
                    hands=(Hand(1, "right", 1.0, 1.0, kp[i], k3[i]),)) for i in range(len(kp))]
    clf = ASLClassifier()
    model = clf.letters.model
    for f in frames[:20]:
        clf.classify(f)
    clf.reset()
    t_feat, t_pred, t_clf = [], [], []
    for i, f in enumerate(frames):
        t0 = time.perf_counter()
        if clf._fast is not None and clf._fast[-1]:  # the plugin's path: only the dist2 + vert blocks
            x = dist_vert_features(kp[i:i + 1], k3[i:i + 1], ["right"])
            t1 = time.perf_counter()
            clf._fast[0].predict_proba(x)
        else:
            x = model.features(kp[i:i + 1], k3[i:i + 1], ["right"], None)
            t1 = time.perf_counter()
            model.pipeline.predict_proba(x)
        t2 = time.perf_counter()
        clf.classify(f)
        t3 = time.perf_counter()
        t_feat.append(t1 - t0)
        t_pred.append(t2 - t1)
        t_clf.append(t3 - t2)
    import cv2

    from gesturekit.tracking import Tracker, TrackerOptions

    cap = cv2.VideoCapture(str(Path(args.data) / "asl_hand.25fps.mp4"))
    imgs = []
    while len(imgs) < args.frames:
        ok, img = cap.read()
        if not ok:
            break
        imgs.append(img)
    t_track = []
    with Tracker(TrackerOptions(model="full", max_hands=1, mode="video")) as tr:
        for i, img in enumerate(imgs):
            t0 = time.perf_counter()
            tr.process(img, t=i / 25, index=i)
            t_track.append(time.perf_counter() - t0)
    med = {k: float(np.median(v)) * 1e3 for k, v in
           (("features_ms", t_feat), ("predict_ms", t_pred), ("classify_ms", t_clf), ("tracker_ms", t_track[5:]))}
    med["classify_share_of_tracker"] = med["classify_ms"] / med["tracker_ms"]
    print(json.dumps({k: round(v, 4) for k, v in med.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
