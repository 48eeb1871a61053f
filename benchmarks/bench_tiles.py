"""Small hands in still photos: how many hands the tracker finds with and without tiles, and the cost.

On the HaGRID sample (``gestures/hagrid_sample``: 1,795 photos of many people, the gesture hand
often small in the frame) the tracker runs in image mode with ``tiles`` off and on:

- *test/val found*: of the 462 annotated test/val photos, those where a tracked hand lies in the
  labelled gesture hand's box (at least half of its 21 keypoints inside the box);
- *outside*: tracked hands in no labelled box at all (gesture or ``no_gesture`` hand): mostly
  false hands (chins, elbows, shirt prints), a few unlabelled real ones;
- *all: any hand*: of every photo (train rows carry no boxes), those with at least one hand;
- *ms/image*: the tracker's time per photo (decoding excluded), one thread.

    .venv/bin/python benchmarks/bench_tiles.py [--split testval|all] [--limit N] [--model full|lite]

Not part of the test run; the figures are quoted in docs/tracker.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GESTUREKIT_DATA", REPO.parent / "shared" / "data"))
SAMPLE = DATA / "gestures" / "hagrid_sample"


def photos(split: str) -> list[dict]:
    rows = list(csv.DictReader((SAMPLE / "labels.csv").open()))
    return [r for r in rows if split == "all" or r["split"] in ("test", "val")]


def gesture_boxes(row: dict) -> tuple[list, list]:
    """The gesture hand's boxes and every labelled hand's box, normalized [x, y, w, h]."""
    boxes = json.loads(row["bboxes"] or "[]")
    labels = row["labels"].split(";") if row["labels"] else []
    gesture = [b for lab, b in zip(labels, boxes, strict=False) if lab != "no_gesture"] or boxes[:1]
    return gesture, boxes


def in_box(keypoints: np.ndarray, width: int, height: int, box: list) -> bool:
    x, y, w, h = box
    n = keypoints / np.array([width, height])
    return bool(((n[:, 0] >= x) & (n[:, 0] <= x + w) & (n[:, 1] >= y) & (n[:, 1] <= y + h)).mean() >= 0.5)


def run(rows: list[dict], tiles: bool, model: str) -> dict:
    from gesturekit.tracking import Tracker, TrackerOptions

    found = outside = any_hand = annotated = 0
    seconds = 0.0
    with Tracker(TrackerOptions(model=model, mode="image", tiles=tiles)) as tracker:
        for row in rows:
            image = cv2.imread(str(SAMPLE / row["file"]))
            start = time.perf_counter()
            frame = tracker.process(image, t=0.0, index=0)
            seconds += time.perf_counter() - start
            any_hand += bool(frame.hands)
            if row["split"] in ("test", "val"):
                annotated += 1
                gesture, every = gesture_boxes(row)
                kps = [h.keypoints for h in frame.hands]
                found += any(in_box(k, frame.width, frame.height, b) for k in kps for b in gesture)
                outside += sum(not any(in_box(k, frame.width, frame.height, b) for b in every) for k in kps)
    return {"photos": len(rows), "annotated": annotated, "found": found, "outside": outside, "any_hand": any_hand,
            "ms": 1000 * seconds / max(len(rows), 1)}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--split", choices=["testval", "all"], default="testval")
    p.add_argument("--limit", type=int, default=0, help="only the first N photos")
    p.add_argument("--model", default="full")
    a = p.parse_args()
    if not SAMPLE.is_dir():
        print(f"HaGRID sample not found at {SAMPLE} (set GESTUREKIT_DATA)", file=sys.stderr)
        return 2
    rows = photos(a.split)[: a.limit or None]
    print(f"{len(rows)} photos ({a.split}), model {a.model}")
    for tiles in (False, True):
        r = run(rows, tiles, a.model)
        share = r["any_hand"] / r["photos"]
        line = f"tiles {'on ' if tiles else 'off'}: any hand {r['any_hand']}/{r['photos']} ({share:.1%})"
        if r["annotated"]:
            line += (f", test/val found {r['found']}/{r['annotated']} ({r['found'] / r['annotated']:.1%}),"
                     f" hands outside every box {r['outside']}")
        print(f"{line}, {r['ms']:.0f} ms/image", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
