"""Accuracy of the built-in static gesture library on real photos of many people.

Runs the real tracker (full model, image mode, up to 2 hands) on the shared photo datasets, or
reads landmarks already extracted from them (``--landmarks``), then the rules classifier with the
built-in library (plus ``--gestures``), and prints per class how often the gesture hand was found,
how often it carries the class's library gesture, and how often it fires a gesture of another
class; and per gesture its precision and recall.

Datasets (in the shared data folder, ``GESTUREKIT_DATA`` or ``../shared/data``):

- ``hagrid``: ``gestures/hagrid_sample`` (HaGRID, 18 classes). By default only the ``test`` and
  ``val`` rows (people never seen in ``train``), whose ``labels.csv`` boxes say which hand makes
  the gesture: the tracked hand whose keypoint box overlaps the gesture box most (IoU >= 0.1) is
  the gesture hand; a photo without one counts as "not found". ``--split train`` has no boxes:
  there the gesture hand is the highest hand in the photo (the raised one).
- ``digits``: ``gestures/sign_digits`` (ASL digits, ~218 students), each 100 x 100 photo padded by
  30 px (edge pixels repeated) before tracking; the gesture hand is the larger hand.

Definitions (per class, over photos whose gesture hand was found):

- *correct*: the class's library gesture holds on the gesture hand;
- *cross*: a gesture of another class (any gesture some other class maps to) holds on it;
- *other*: a library gesture outside the mapping holds on it (``pinch`` with ``ok`` excepted);
- per gesture, *precision* = hands of its classes firing it / all gesture hands firing it, and
  *recall* = hands of its classes firing it / found hands of its classes.

Usage::

    .venv/bin/python benchmarks/library_accuracy.py                      # hagrid test+val and digits, tracked
    .venv/bin/python benchmarks/library_accuracy.py --landmarks hagrid=/tmp/gk_cache/hagrid_sample \\
        --landmarks digits=/tmp/gk_cache/sign_digits --json
    .venv/bin/python benchmarks/library_accuracy.py --dataset hagrid --split train --limit 20

A ``--landmarks`` folder is a gesturekit dataset (``gesturekit.learn``) made from the same photos
by the same tracker: one sample per tracked hand, ``source`` the photo's path (any prefix),
keypoints in the photo's own pixels (for digits: shifted back out of the padding); photos absent
from its ``samples.jsonl`` count as photos in which no hand was found.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = Path(os.environ.get("GESTUREKIT_DATA", HERE.parent.parent / "shared" / "data"))

#: HaGRID class -> library gesture (None: no library gesture, documented as unsupported).
HAGRID_MAP: dict[str, str | None] = {
    "call": "call", "dislike": "thumbs_down", "fist": "fist", "four": "four", "like": "thumbs_up",
    "mute": None, "ok": "ok", "one": "pointing_up", "palm": "open_palm", "peace": "victory",
    "peace_inverted": "victory", "rock": "rock", "stop": "stop", "stop_inverted": "stop", "three": "three",
    "three2": "three", "two_up": "two_up", "two_up_inverted": "two_up",
}
#: ASL digit -> library gesture (None: not covered).
DIGITS_MAP: dict[str, str | None] = {
    "0": None, "1": "pointing_up", "2": "victory", "3": "three", "4": "four", "5": "open_palm", "6": "three",
    "7": None, "8": None, "9": "ok",
}
#: gestures that may accompany a class's gesture without counting against it
COMPANIONS: dict[str, set[str]] = {"ok": {"pinch"}}
DIGITS_PAD = 30
#: extra TrackerOptions fields for :func:`track_photos` (``--tiles`` / ``--no-tiles`` set ``tiles``)
TRACKER_EXTRA: dict = {}


@dataclass
class Photo:
    """One photo: its class, who made it, and the hands the tracker found in it."""

    path: str
    label: str
    group: str = ""
    split: str = ""
    width: int = 0
    height: int = 0
    box: tuple[float, float, float, float] | None = None  # normalized x, y, w, h of the gesture hand
    hands: list = field(default_factory=list)  # gesturekit Hand values


@dataclass
class Outcome:
    """What the library said about one photo's gesture hand (``None`` fired when not found)."""

    photo: Photo
    fired: frozenset[str] | None


# ------------------------------------------------------------------------------------------------
# Photos
# ------------------------------------------------------------------------------------------------


def hagrid_photos(root: Path, splits: Sequence[str]) -> list[Photo]:
    """The rows of ``hagrid_sample/labels.csv`` in ``splits``, with the gesture hand's box."""
    out = []
    with open(root / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["split"] not in splits:
                continue
            box = None
            if r["labels"]:
                labels = (json.loads(r["labels"]) if r["labels"].startswith("[")
                          else r["labels"].replace(",", ";").split(";"))
                boxes = json.loads(r["bboxes"])  # strict JSON, as the HaGRID importer reads it
                for lab, b in zip(labels, boxes, strict=False):
                    if str(lab).strip() == r["label"]:
                        box = tuple(float(v) for v in b)
                        break
            out.append(Photo(str(root / r["file"]), r["label"], r["user_id"] or f"train:{r['file']}", r["split"],
                             box=box))
    return out


def digits_photos(root: Path) -> list[Photo]:
    """The rows of ``sign_digits/labels.csv``."""
    with open(root / "labels.csv", newline="") as f:
        return [Photo(str(root / r["file"]), r["digit"], f"person{r['person']}", "all")
                for r in csv.DictReader(f)]


def _key(path: str) -> str:
    """A photo's path from its class folder on (``images/<class>/<file>``), whatever the prefix."""
    parts = Path(path).parts
    return "/".join(parts[parts.index("images"):]) if "images" in parts else path


def attach_landmarks(photos: Sequence[Photo], folder: Path) -> None:
    """Fill ``photos[i].hands`` from a gesturekit dataset folder made from the same photos."""
    from gesturekit.learn import read_dataset
    from gesturekit.values import Hand

    data = read_dataset(folder)
    by_key: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(data.sources):
        by_key[_key(str(s))].append(i)
    for p in photos:
        rows = by_key.get(_key(p.path), [])
        p.hands = [Hand(j, str(data.handedness[i]) if data.handedness[i] in ("left", "right") else "right", 1.0, 1.0,
                        data.keypoints[i], data.keypoints3d[i]) for j, i in enumerate(rows)]
        if rows:
            p.width, p.height = (int(v) for v in data.sizes[rows[0]])
        else:
            p.width, p.height = _image_size(p.path)


def _image_size(path: str) -> tuple[int, int]:
    import cv2

    img = cv2.imread(path)
    return (0, 0) if img is None else (int(img.shape[1]), int(img.shape[0]))


def track_photos(photos: Sequence[Photo], pad: int = 0, progress: bool = False) -> None:
    """Fill ``photos[i].hands`` by running the real tracker (full model, image mode, 2 hands).

    With ``pad``, the image is padded by that many pixels (edge pixels repeated) and the
    keypoints are shifted back into the photo's own pixels."""
    import cv2

    from gesturekit.tracking import Tracker, TrackerOptions
    from gesturekit.values import Hand

    with Tracker(TrackerOptions(model="full", mode="image", max_hands=2, **TRACKER_EXTRA)) as tracker:
        for n, p in enumerate(photos):
            img = cv2.imread(p.path)
            if img is None:
                raise SystemExit(f"library_accuracy: error: cannot read image {p.path}")
            p.height, p.width = img.shape[:2]
            if pad:
                img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            frame = tracker.process(img, t=0.0, index=0, source=p.path)
            p.hands = [Hand(h.track_id, h.handedness, h.handedness_score, h.score,
                            np.asarray(h.keypoints) - pad, h.keypoints3d) for h in frame.hands]
            if progress and n % 100 == 0:
                print(f"  tracked {n}/{len(photos)}", file=sys.stderr, flush=True)


# ------------------------------------------------------------------------------------------------
# The gesture hand and what fires on it
# ------------------------------------------------------------------------------------------------


def _iou(a: np.ndarray, b: np.ndarray) -> float:
    """IoU of two ``[x0, y0, x1, y1]`` boxes."""
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def gesture_hand(photo: Photo) -> int | None:
    """Index of the photo's gesture hand among ``photo.hands``, or None when it was not found.

    With a box: the hand whose keypoint box has the largest IoU (at least 0.1) with it. Without
    one: the only hand, else the highest (HaGRID ``train``) or the largest (digits)."""
    if not photo.hands:
        return None
    if photo.box is not None:
        x, y, w, h = photo.box
        box = np.array([x, y, x + w, y + h])
        size = np.array([photo.width, photo.height, photo.width, photo.height], dtype=np.float64)
        best, best_iou = None, 0.1
        for i, hand in enumerate(photo.hands):
            kp = np.asarray(hand.keypoints)
            hb = np.concatenate([kp.min(0), kp.max(0)]) / size
            iou = _iou(box, hb)
            if iou >= best_iou:
                best, best_iou = i, iou
        return best
    if photo.split == "train":
        return int(np.argmin([np.asarray(h.keypoints)[:, 1].mean() for h in photo.hands]))
    return int(np.argmax([np.ptp(np.asarray(h.keypoints), axis=0).prod() for h in photo.hands]))


def classify(photos: Iterable[Photo], gestures: Sequence[str] = ()) -> Iterator[Outcome]:
    """Run the rules classifier (built-in library plus ``gestures`` files) on each photo alone."""
    from gesturekit.classifiers.rules import RulesClassifier, load_library
    from gesturekit.values import Frame

    clf = RulesClassifier(load_library(list(gestures)), mirrored=False)
    static = {d.name for d in clf.definitions if d.kind == "static" and d.hands != "both"}
    for p in photos:
        j = gesture_hand(p)
        if j is None:
            yield Outcome(p, None)
            continue
        clf.reset()
        hands = [h for h in p.hands]
        frame = Frame(0, 0.0, max(p.width, 1), max(p.height, 1), p.path, tuple(
            type(h)(i + 1, h.handedness, h.handedness_score, h.score, h.keypoints, h.keypoints3d)
            for i, h in enumerate(hands)))
        dets = clf.classify(frame)
        yield Outcome(p, frozenset(d.gesture for d in dets if (j + 1) in d.hands and d.gesture in static))


# ------------------------------------------------------------------------------------------------
# Figures
# ------------------------------------------------------------------------------------------------


def summarize(outcomes: Sequence[Outcome], mapping: dict[str, str | None]) -> dict:
    """Per-class and per-gesture figures (see the module docstring)."""
    class_gestures = {g for g in mapping.values() if g}
    classes: dict[str, dict] = {}
    per_class = defaultdict(list)
    for o in outcomes:
        per_class[o.photo.label].append(o)
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    pos: Counter[str] = Counter()
    confusions: dict[str, Counter[str]] = {}
    for label in sorted(per_class, key=lambda c: (c not in mapping, list(mapping).index(c) if c in mapping else c)):
        rows = per_class[label]
        expected = mapping.get(label)
        found = [o for o in rows if o.fired is not None]
        companions = COMPANIONS.get(expected or "", set())
        correct = sum(1 for o in found if expected and expected in o.fired)
        others = {g for g in class_gestures if g != expected}
        cross = sum(1 for o in found if o.fired & others)
        other = sum(1 for o in found if o.fired - class_gestures - companions)
        conf: Counter[str] = Counter("+".join(sorted(o.fired)) or "-" for o in found
                                     if not (expected and o.fired - companions == {expected}))
        confusions[label] = conf
        classes[label] = {
            "gesture": expected, "photos": len(rows), "found": len(found),
            "found_rate": len(found) / len(rows) if rows else None,
            "correct": correct if expected else None,
            "accuracy": (correct / len(found) if found else None) if expected else None,
            "cross": cross, "cross_rate": cross / len(found) if found else None,
            "cross_photo_rate": cross / len(rows) if rows else None,
            "other": other,
            "errors": dict(conf.most_common(6)),
        }
        for o in found:
            if expected:
                pos[expected] += 1
            for g in o.fired:
                if g == expected:
                    tp[g] += 1
                else:
                    fp[g] += 1
    gestures = {}
    for g in sorted(set(pos) | set(fp)):
        fired = tp[g] + fp[g]
        gestures[g] = {"true": tp[g], "false": fp[g], "positives": pos[g],
                       "precision": tp[g] / fired if fired else None,
                       "recall": tp[g] / pos[g] if pos[g] else None}
    covered = [c for c in classes.values() if c["gesture"]]
    found_all = sum(c["found"] for c in classes.values())
    total = {
        "photos": sum(c["photos"] for c in classes.values()), "found": found_all,
        "accuracy_covered": (sum(c["correct"] for c in covered) / max(1, sum(c["found"] for c in covered))),
        "cross_photo_rate": (sum(c["cross"] for c in classes.values())
                             / max(1, sum(c["photos"] for c in classes.values()))),
        "min_class_accuracy": min((c["accuracy"] for c in covered if c["accuracy"] is not None), default=None),
    }
    return {"classes": classes, "gestures": gestures, "total": total}


def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{100 * v:5.1f}%"


def print_report(name: str, res: dict, out=sys.stdout) -> None:
    """A plain-text table of :func:`summarize`'s figures."""
    t = res["total"]
    print(f"\n{name}: {t['photos']} photos, gesture hand found in {t['found']}; "
          f"covered classes {_pct(t['accuracy_covered'])} correct over found hands, "
          f"cross-fire on {_pct(t['cross_photo_rate'])} of photos", file=out)
    print(f"  {'class':16} {'gesture':12} {'photos':>6} {'found':>6} {'correct':>7} {'cross':>6} {'other':>5}  errors",
          file=out)
    for label, c in res["classes"].items():
        errs = ", ".join(f"{k} {v}" for k, v in c["errors"].items())
        print(f"  {label:16} {c['gesture'] or '(none)':12} {c['photos']:6d} {c['found']:6d} "
              f"{_pct(c['accuracy']):>7} {c['cross']:6d} {c['other']:5d}  {errs}", file=out)
    print(f"  {'gesture':14} {'precision':>9} {'recall':>7} {'true':>5} {'false':>5}", file=out)
    for g, v in res["gestures"].items():
        print(f"  {g:14} {_pct(v['precision']):>9} {_pct(v['recall']):>7} {v['true']:5d} {v['false']:5d}", file=out)


def print_markdown(name: str, res: dict, out=sys.stdout) -> None:
    """:func:`summarize`'s figures as the Markdown tables of docs/gestures.md."""
    t = res["total"]
    print(f"**{name}**: {t['photos']} photos, the gesture hand found in {t['found']} "
          f"({_pct(t['found'] / max(1, t['photos'])).strip()}); over found hands of covered classes "
          f"{_pct(t['accuracy_covered']).strip()} correct; a gesture of another class on "
          f"{_pct(t['cross_photo_rate']).strip()} of the photos.\n", file=out)
    print("| class | gesture | photos | found | correct | another class's gesture | most frequent errors |", file=out)
    print("|---|---|---:|---:|---:|---:|---|", file=out)
    for label, c in res["classes"].items():
        errs = ", ".join(f"{k or '-'} {v}" for k, v in c["errors"].items()) or ""
        gesture = f"`{c['gesture']}`" if c["gesture"] else "(none)"
        print(f"| `{label}` | {gesture} | {c['photos']} | {c['found']} | {_pct(c['accuracy']).strip()} | "
              f"{c['cross']} | {errs} |", file=out)
    print("\n| gesture | precision | recall | true | false |", file=out)
    print("|---|---:|---:|---:|---:|", file=out)
    for g, v in res["gestures"].items():
        print(f"| `{g}` | {_pct(v['precision']).strip()} | {_pct(v['recall']).strip()} | {v['true']} | "
              f"{v['false']} |", file=out)
    print(file=out)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    ap.add_argument("--dataset", action="append", choices=["hagrid", "digits"],
                    help="which dataset(s) (default: both)")
    ap.add_argument("--split", default="test,val", help="HaGRID splits, comma-separated (default test,val)")
    ap.add_argument("--landmarks", action="append", default=[], metavar="NAME=DIR",
                    help="read the landmarks of dataset NAME from a gesturekit dataset folder instead of tracking")
    ap.add_argument("--gestures", action="append", default=[], help="extra gesture files or folders")
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos per class (the first in file order)")
    ap.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    ap.add_argument("--markdown", action="store_true", help="print the figures as Markdown tables")
    ap.add_argument("--tiles", action=argparse.BooleanOptionalAction, default=None,
                    help="the tracker's tiles option (a second look at image tiles for small hands); "
                         "default: the tracker's default")
    args = ap.parse_args(argv)
    if args.tiles is not None:
        TRACKER_EXTRA["tiles"] = args.tiles
    landmarks = {}
    for item in args.landmarks:
        name, sep, folder = item.partition("=")
        if not sep or name not in ("hagrid", "digits") or not Path(folder).is_dir():
            ap.error(f"--landmarks expects hagrid=DIR or digits=DIR with an existing DIR, got {item!r}")
        landmarks[name] = Path(folder)
    results = {}
    for name in args.dataset or ["hagrid", "digits"]:
        root = args.data / "gestures" / ("hagrid_sample" if name == "hagrid" else "sign_digits")
        if not (root / "labels.csv").is_file():
            print(f"library_accuracy: error: {root / 'labels.csv'} not found (set --data or GESTUREKIT_DATA)",
                  file=sys.stderr)
            return 2
        photos = (hagrid_photos(root, args.split.split(",")) if name == "hagrid" else digits_photos(root))
        if args.limit:
            seen: Counter[str] = Counter()
            kept = []
            for p in photos:
                seen[p.label] += 1
                if seen[p.label] <= args.limit:
                    kept.append(p)
            photos = kept
        if name in landmarks:
            attach_landmarks(photos, landmarks[name])
        else:
            track_photos(photos, pad=DIGITS_PAD if name == "digits" else 0,
                         progress=not (args.json or args.markdown))
        mapping = HAGRID_MAP if name == "hagrid" else DIGITS_MAP
        results[name] = summarize(list(classify(photos, args.gestures)), mapping)
        tiles = {None: "", True: ", tiles", False: ", no tiles"}[args.tiles]
        results[name]["source"] = str(landmarks.get(name, f"tracked: full model, image mode, 2 hands{tiles}"))
        if name == "hagrid":
            results[name]["split"] = args.split
    if args.json:
        print(json.dumps(results, indent=1))
    elif args.markdown:
        for name, res in results.items():
            print_markdown(f"{name} ({res.get('split', 'all')})", res)
    else:
        for name, res in results.items():
            print_report(f"{name} ({res.get('split', 'all')}; {res['source']})", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
