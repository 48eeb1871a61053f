"""Cost of the full built-in gesture library per hand per frame, against raw MediaPipe.

Runs in one process:

1. raw MediaPipe hand landmarking (the Tasks ``HandLandmarker`` in video mode, no gesturekit
   code around it) over a real clip, timing ``detect_for_video`` per frame;
2. gesturekit's tracker on the same clip to get Frames (not timed here);
3. the rule classifier with the whole library (features + every definition) on those Frames,
   several passes, timing ``classify`` per frame.

Prints the median (and p90) milliseconds per hand per frame of the rules, the median MediaPipe
milliseconds per frame, and their ratio. Target: rules < 0.2 ms per hand per frame.

    .venv/bin/python benchmarks/bench_rules.py [--clip PATH] [--model full|lite] [--passes N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path(os.environ.get("GESTUREKIT_DATA", HERE.parent.parent / "shared" / "data"))


def _frames_of(path: str) -> list[np.ndarray]:
    import cv2

    cap = cv2.VideoCapture(path)
    out = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        out.append(img)
    cap.release()
    if not out:
        sys.exit(f"bench_rules: cannot read {path}")
    return out


def raw_mediapipe_ms(images: list[np.ndarray], model: str, fps: float) -> list[float]:
    """Per-frame milliseconds of MediaPipe's HandLandmarker alone (video mode, two hands)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from gesturekit.tracking import model_bundle

    opts = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_buffer=model_bundle(model)),
                                        running_mode=vision.RunningMode.VIDEO, num_hands=2)
    times = []
    with vision.HandLandmarker.create_from_options(opts) as lm:
        for i, img in enumerate(images):
            mp_img = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(img[:, :, ::-1]))
            t0 = time.perf_counter()
            lm.detect_for_video(mp_img, int(i * 1000 / fps))
            times.append((time.perf_counter() - t0) * 1000)
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clip", action="append", default=None,
                    help="video clip(s) (default: tracking/asl_hand.25fps.mp4 and dynamic/zoom.mp4)")
    ap.add_argument("--model", default="full", choices=["full", "lite"])
    ap.add_argument("--passes", type=int, default=20, help="passes of the rules over the frames")
    args = ap.parse_args()
    clips = args.clip or [str(DEFAULT_DATA / "tracking" / "asl_hand.25fps.mp4"), str(DEFAULT_DATA / "dynamic" /
                                                                                      "zoom.mp4")]

    from gesturekit.classifiers.rules import RulesClassifier, load_library
    from gesturekit.tracking import Tracker, TrackerOptions

    library = load_library()
    print(f"library: {len(library)} gestures ({', '.join(d.name for d in library)})")
    mp_all: list[float] = []
    per_hand_all: list[float] = []
    for clip in clips:
        images = _frames_of(clip)
        fps = 25.0
        mp_ms = raw_mediapipe_ms(images, args.model, fps)
        with Tracker(TrackerOptions(model=args.model, mode="video")) as tracker:
            frames = [tracker.process(img, t=i / fps, index=i) for i, img in enumerate(images)]
        with_hands = [f for f in frames if f.hands]
        per_hand: list[float] = []
        for _ in range(args.passes):
            clf = RulesClassifier(library)  # fresh state each pass, same as a new source
            for f in with_hands:
                t0 = time.perf_counter()
                clf.classify(f)
                per_hand.append((time.perf_counter() - t0) * 1000 / len(f.hands))
        n_hands = sum(len(f.hands) for f in with_hands) / max(len(with_hands), 1)
        print(f"{Path(clip).name}: {len(frames)} frames, {len(with_hands)} with hands ({n_hands:.2f} hands/frame)")
        print(f"  raw MediaPipe ({args.model}): median {statistics.median(mp_ms):.2f} ms/frame")
        print(f"  rules, full library:  median {statistics.median(per_hand):.4f} ms/hand/frame, "
              f"p90 {np.percentile(per_hand, 90):.4f}  ({len(per_hand)} samples)")
        mp_all += mp_ms
        per_hand_all += per_hand
    med_rules, med_mp = statistics.median(per_hand_all), statistics.median(mp_all)
    print(f"ALL: rules median {med_rules:.4f} ms/hand/frame (target < 0.2: {'ok' if med_rules < 0.2 else 'MISSED'}); "
          f"MediaPipe median {med_mp:.2f} ms/frame; rules / MediaPipe = {med_rules / med_mp:.4f} "
          f"({100 * med_rules / med_mp:.2f}% per hand)")


if __name__ == "__main__":
    main()
