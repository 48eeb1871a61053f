"""Tracker overhead: gesturekit's tracking loop against the raw MediaPipe loop, same run.

The raw loop is what people write by hand: cv2 decode -> RGB -> mp.Image ->
HandLandmarker.detect_for_video. gesturekit's loop adds threaded decoding, track ids, the
metric keypoints and immutable Frame values (and, with --classify, every configured classifier).

    .venv/bin/python benchmarks/bench_tracker.py [--model lite|full] [--repeats 3] [--classify]

Prints per-frame medians and the ratio gesturekit / raw (lower is better; < 1 means faster,
which threaded decoding allows on a multi-core machine).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import cv2

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GESTUREKIT_DATA", REPO.parent / "shared" / "data"))


def raw_loop(clip: str, model: str) -> float:
    """Seconds per frame of the plain hand-written MediaPipe loop."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from gesturekit.tracking import model_bundle

    opts = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_buffer=model_bundle(model)),
                                        running_mode=vision.RunningMode.VIDEO, num_hands=2)
    landmarker = vision.HandLandmarker.create_from_options(opts)
    cap = cv2.VideoCapture(clip)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25
    n = 0
    start = time.perf_counter()
    while True:
        ok, img = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(n * 1000 / fps))
        n += 1
    elapsed = time.perf_counter() - start
    landmarker.close()
    return elapsed / n


def gesturekit_loop(clip: str, model: str, classify: bool) -> float:
    """Seconds per frame of gesturekit's source -> tracker (-> classifiers) loop."""
    from gesturekit.chain.builder import build_classifiers
    from gesturekit.chain.pipeline import Pipeline
    from gesturekit.chain.plugin_manager import get_plugin_manager
    from gesturekit.sources import ThreadedReader, open_source
    from gesturekit.tracking import TrackerOptions

    pm = get_plugin_manager()
    classifiers = build_classifiers(pm) if classify else {}
    with Pipeline(pm, TrackerOptions(model=model), classifiers=classifiers) as pipe:
        _ = pipe.tracker  # build the graph outside the timed part, as the raw loop does
        reader = ThreadedReader(open_source(clip))
        n = 0
        start = time.perf_counter()
        for item in reader:
            frame = pipe.frame_for(item)
            if classify:
                pipe.process(frame)
            n += 1
        elapsed = time.perf_counter() - start
        reader.close()
    return elapsed / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="full", choices=["lite", "full"])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--classify", action="store_true", help="also run the configured classifiers")
    ap.add_argument("--clip", default=str(DATA / "tracking" / "asl_hand.25fps.mp4"))
    args = ap.parse_args()
    if not Path(args.clip).exists():
        sys.exit(f"clip not found: {args.clip} (set GESTUREKIT_DATA)")
    raw, ours = [], []
    for i in range(args.repeats):  # interleaved, so machine noise hits both alike
        raw.append(raw_loop(args.clip, args.model))
        ours.append(gesturekit_loop(args.clip, args.model, args.classify))
        print(f"run {i + 1}: raw {raw[-1] * 1000:.2f} ms/frame, gesturekit {ours[-1] * 1000:.2f} ms/frame",
              file=sys.stderr)
    r, o = statistics.median(raw), statistics.median(ours)
    print(f"clip: {Path(args.clip).name}, model: {args.model}, repeats: {args.repeats}, cores: {os.cpu_count()}")
    print(f"raw MediaPipe loop : median {r * 1000:.2f} ms/frame")
    print(f"gesturekit loop    : median {o * 1000:.2f} ms/frame" + (" (with classifiers)" if args.classify else ""))
    print(f"ratio gesturekit/raw: {o / r:.3f}")


if __name__ == "__main__":
    main()
