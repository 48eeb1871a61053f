"""Tracker throughput on CPU and GPU (MediaPipe's GPU delegate), lite and full, in one run.

    .venv/bin/python benchmarks/bench_gpu.py [--out TABLE.md] [--frames 200]

Prints a markdown table (and writes it to ``--out``): frames/s and ms/frame of the tracker over the
shared ASL clip (decoded beforehand, so only inference is timed) for each model and device. On a
machine without a usable GPU delegate the GPU rows say so in one line. Runs unattended, each
measurement in a child process with a time limit, well under 5 minutes in all.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GESTUREKIT_DATA", REPO.parent / "shared" / "data"))


def measure(clip: str, model: str, device: str, frames: int) -> dict:
    """Runs in the child: ms/frame of ``Tracker.process`` (median), graph creation excluded."""
    import statistics

    import cv2

    from gesturekit import DeviceUnavailableError
    from gesturekit.tracking import Tracker, TrackerOptions

    cap = cv2.VideoCapture(clip)
    images = []
    while len(images) < frames:
        ok, img = cap.read()
        if not ok:
            break
        images.append(img)
    cap.release()
    try:
        t0 = time.perf_counter()
        tracker = Tracker(TrackerOptions(model=model, device=device, mode="video", mirrored=False))
        create = time.perf_counter() - t0
    except DeviceUnavailableError as e:
        return {"error": str(e)}
    times, hands = [], 0
    with tracker:
        for i, img in enumerate(images):
            t0 = time.perf_counter()
            f = tracker.process(img, t=i / 25.0, index=i)
            times.append(time.perf_counter() - t0)
            hands += len(f.hands)
    ms = statistics.median(times[5:]) * 1000
    return {"ms": ms, "fps": 1000 / ms, "frames": len(images), "hands": hands, "create_s": create}


def child(args: argparse.Namespace, model: str, device: str) -> dict:
    cmd = [sys.executable, __file__, "--child", model, device, "--frames", str(args.frames), "--clip", args.clip]
    env = {**os.environ, "GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {args.timeout} s"}
    lines = [x for x in p.stdout.splitlines() if x.startswith("{")]
    if p.returncode != 0 or not lines:
        tail = (p.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"failed (exit {p.returncode}): {tail[:200]}"}
    return json.loads(lines[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", metavar="FILE", help="also write the markdown table here")
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--timeout", type=int, default=60, help="seconds per measurement (default 60)")
    ap.add_argument("--clip", default=str(DATA / "tracking" / "asl_hand.25fps.mp4"))
    ap.add_argument("--child", nargs=2, metavar=("MODEL", "DEVICE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(measure(args.clip, args.child[0], args.child[1], args.frames)))
        return 0
    if not Path(args.clip).exists():
        print(f"clip not found: {args.clip} (set GESTUREKIT_DATA)", file=sys.stderr)
        return 2
    rows = ["| model | device | ms/frame | frames/s | hands found | graph start (s) |", "|---|---|---|---|---|---|"]
    for model in ("lite", "full"):
        for device in ("cpu", "gpu"):
            r = child(args, model, device)
            if "error" in r:
                rows.append(f"| {model} | {device} | - | - | - | {r['error']} |")
            else:
                rows.append(f"| {model} | {device} | {r['ms']:.2f} | {r['fps']:.1f} | {r['hands']}/{r['frames']} | "
                            f"{r['create_s']:.2f} |")
            print(rows[-1], file=sys.stderr, flush=True)
    table = f"Tracker throughput, {Path(args.clip).name}, {os.cpu_count()} cores\n\n" + "\n".join(rows) + "\n"
    print(table)
    if args.out:
        Path(args.out).write_text(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
