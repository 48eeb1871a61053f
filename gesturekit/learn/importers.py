"""Importers: public landmark files and labelled image sets -> gesturekit datasets.

Every importer appends to a :class:`~gesturekit.learn.dataset.DatasetWriter` folder and records
each input it handled in ``processed.jsonl``, so an interrupted import resumes where it stopped
(running it again adds nothing twice). Image importers run the real tracker (MediaPipe, image
mode, ``full`` model by default) over each photo.

=================  ======================================================================
format             source
=================  ======================================================================
``asl-npz``        ``asl/borisgraudt/asl_landmarks_AZ.npz``: MediaPipe normalized image
                   coordinates of one signer on ~16:9 frames (x scaled to a nominal
                   1280 x 720 frame; mirrored back, since its hands are mirror images of
                   unmirrored photos); 2D only (its ``z`` is kept in ``extra``)
``keypoint-csv``   Kazuhito00 ``keypoint.csv`` (and the kinivi OK rows): class id + 21 x (x, y)
                   of a mirrored webcam, wrist-relative; 2D only; groups are contiguous blocks
``roboflow``       ``asl/roboflow_valid``: photos + ``labels.csv`` (letter, YOLO boxes)
``hagrid``         ``gestures/hagrid_sample``: photos + ``labels.csv`` (split, person, boxes)
``sign-digits``    ``gestures/sign_digits``: 100 x 100 photos (padded before tracking) +
                   ``labels.csv`` (digit, person group)
``image-folder``   any folder of images labelled by sub-folder (``folder/<label>/*.jpg``)
``image-csv``      any ``file,label[,group]`` CSV of images (paths relative to the CSV)
=================  ======================================================================
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gesturekit._exceptions import InputError, SourceError
from gesturekit.learn.dataset import DatasetWriter, Sample, processed_sources

__all__ = ["ImageRow", "IMPORTERS", "import_dataset", "import_asl_npz", "import_keypoint_csv", "import_images",
           "import_roboflow", "import_hagrid", "import_sign_digits", "import_image_folder", "import_image_csv",
           "rows_from_folder", "rows_from_csv", "chirality_2d", "KAZUHITO_CLASSES", "IMAGE_SUFFIXES"]

log = logging.getLogger("gesturekit.learn")

#: Class names of Kazuhito00's ``keypoint_classifier_label.csv`` (+ kinivi's OK).
KAZUHITO_CLASSES: tuple[str, ...] = ("Open", "Close", "Pointer", "OK")
#: Image file name endings the folder importers pick up.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp")
#: Nominal frame the ASL NPZ's normalized coordinates are mapped onto (its frames are ~16:9).
NPZ_FRAME = (1280, 720)


def _progress(it: Iterable, total: int | None, desc: str, enabled: bool) -> Iterable:
    if not enabled:
        return it
    from tqdm import tqdm

    return tqdm(it, total=total, desc=desc, unit="item", leave=False, dynamic_ncols=True)


def chirality_2d(keypoints: np.ndarray) -> np.ndarray:
    """``+1`` where a 2D hand (image axes, y down) looks like a right hand with its palm toward the
    camera (or a left hand showing its back), ``-1`` for the mirror image: ``(N, 21, 2) -> (N,)``.

    The sign of the cross product of wrist -> middle knuckle and pinky -> index knuckle.
    """
    p = np.asarray(keypoints, dtype=np.float64).reshape(-1, 21, 2)
    a = p[:, 9] - p[:, 0]
    b = p[:, 5] - p[:, 17]
    cross = a[:, 0] * b[:, 1] - a[:, 1] * b[:, 0]
    return np.where(cross > 0, 1.0, -1.0)


# --------------------------------------------------------------------------------------------------
# landmark files
# --------------------------------------------------------------------------------------------------
def import_asl_npz(src: str | os.PathLike, out: str | os.PathLike, *, group: str = "borisgraudt",
                   mirror: bool = True, frame: tuple[int, int] = NPZ_FRAME, progress: bool = True) -> int:
    """Import ``asl_landmarks_AZ.npz`` (``landmarks`` (N, 21, 3) normalized, ``labels``,
    ``frame_index``), in capture order. Returns the number of samples added (0 when this file was
    imported into ``out`` before).

    The normalized ``x, y`` become pixels of a nominal ``frame`` (16:9, so the geometry is square);
    with ``mirror`` the hands are flipped left-right (the file's hands are mirror images of
    unmirrored photos of the same letters) and stored as right hands.
    """
    src = Path(src)
    key = str(src.resolve())
    if key in processed_sources(out):
        return 0
    try:
        with np.load(src, allow_pickle=False) as z:
            lm = np.asarray(z["landmarks"], dtype=np.float64)
            labels = np.asarray(z["labels"]).astype(str)
            order = np.asarray(z["frame_index"]) if "frame_index" in z.files else np.arange(len(lm))
    except (OSError, ValueError, KeyError) as e:
        raise SourceError(f"{src}: not an ASL landmark NPZ ({type(e).__name__}: {e})") from None
    if lm.ndim != 3 or lm.shape[1:] != (21, 3) or len(labels) != len(lm) or len(order) != len(lm):
        raise SourceError(f"{src}: expected landmarks (N, 21, 3) with N labels and frame indices, got "
                          f"{lm.shape}, {labels.shape}, {order.shape}")
    if not np.isfinite(lm).all():
        raise SourceError(f"{src}: landmarks must be finite")
    w, h = frame
    idx = np.argsort(order, kind="stable")
    xy = lm[:, :, :2] * np.array([w, h], dtype=np.float64)
    if mirror:
        xy[:, :, 0] = w - xy[:, :, 0]
    nan3 = np.full((21, 3), np.nan)
    with DatasetWriter(out, origin=f"asl-npz:{src.name}") as wr:
        for i in _progress(idx, len(idx), "asl-npz", progress):
            wr.add(Sample(label=str(labels[i]), keypoints=xy[i], keypoints3d=nan3,
                          handedness="right" if mirror else "unknown", group=group, source=key,
                          frame=int(order[i]), width=w, height=h,
                          extra={"z": [round(float(v), 6) for v in lm[i, :, 2]], "mirrored": bool(mirror)}))
        wr.mark_processed(key, len(idx))
        return wr.count


def import_keypoint_csv(srcs: Sequence[str | os.PathLike] | str | os.PathLike, out: str | os.PathLike, *,
                        classes: Sequence[str] = KAZUHITO_CLASSES, block: int = 100,
                        progress: bool = True) -> int:
    """Import Kazuhito00-style ``keypoint.csv`` files (class id, then 21 x (x, y) of a mirrored
    webcam, wrist-relative, scaled to -1..1; no z). Returns the samples added.

    The mirroring is undone (x negated). The files carry no handedness: each file is taken to be
    one hand, and its side is the one that puts most of its rows palm-toward-camera
    (:func:`chirality_2d`), which is how a webcam user holds these gestures. Rows are consecutive
    frames: ``group`` is ``<file stem>:<class>:<block>`` with ``block`` rows of one class per
    group, for block (never random) splits.
    """
    if isinstance(srcs, (str, os.PathLike)):
        srcs = [srcs]
    done = processed_sources(out)
    added = 0
    with DatasetWriter(out, origin="keypoint-csv") as wr:
        for src in srcs:
            src = Path(src)
            key = str(src.resolve())
            if key in done:
                continue
            try:
                raw = np.loadtxt(src, delimiter=",", dtype=np.float64, ndmin=2)
            except (OSError, ValueError) as e:
                raise SourceError(f"{src}: not a keypoint CSV ({type(e).__name__}: {e})") from None
            if raw.shape[1] != 43:
                raise SourceError(f"{src}: expected 43 columns (class + 21 x, y), got {raw.shape[1]}")
            cls = raw[:, 0].astype(int)
            if cls.min() < 0 or cls.max() >= len(classes):
                raise SourceError(f"{src}: class ids must be 0..{len(classes) - 1}, got {cls.min()}..{cls.max()}")
            kp = raw[:, 1:].reshape(-1, 21, 2).copy()
            kp[:, :, 0] *= -1.0  # undo the webcam mirror
            hand = "right" if chirality_2d(kp).mean() >= 0 else "left"
            # a running index per class: consecutive rows of one class form the blocks
            pos = np.zeros(len(cls), dtype=int)
            for c in np.unique(cls):
                pos[cls == c] = np.arange(int((cls == c).sum()))
            nan3 = np.full((21, 3), np.nan)
            for i in _progress(range(len(raw)), len(raw), src.name, progress):
                label = classes[cls[i]]
                wr.add(Sample(label=label, keypoints=kp[i], keypoints3d=nan3, handedness=hand,
                              group=f"{src.stem}:{label}:{pos[i] // block}", source=key, frame=i))
            wr.mark_processed(key, len(raw))
            added += len(raw)
    return added


# --------------------------------------------------------------------------------------------------
# image sets (the real tracker)
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ImageRow:
    """One labelled image to track.

    :param boxes: normalized ``(cx, cy, w, h)`` boxes of the hands to keep, each with its label;
        empty: keep the one most confident hand (or every hand with ``all_hands``).
    """

    path: str
    label: str
    group: str = ""
    boxes: tuple[tuple[str, tuple[float, float, float, float]], ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)


def _pick(frame: Any, row: ImageRow, pad: int, all_hands: bool, single_only: bool) -> list[tuple[str, Any]]:
    """The hands of ``frame`` to keep for ``row``, each with its label."""
    hands = list(frame.hands)
    if not hands:
        return []
    if not row.boxes:
        if all_hands:
            return [(row.label, h) for h in hands]
        if single_only and len(hands) > 1:
            return []
        return [(row.label, max(hands, key=lambda h: h.score))]
    w, h = frame.width - 2 * pad, frame.height - 2 * pad
    centres = np.array([(np.asarray(x.keypoints) - pad).mean(axis=0) / (w, h) for x in hands])
    out, used = [], set()
    for label, (cx, cy, bw, bh) in row.boxes:
        d = np.hypot((centres[:, 0] - cx) / max(bw, 1e-6), (centres[:, 1] - cy) / max(bh, 1e-6))
        for j in np.argsort(d):
            if int(j) not in used and d[j] < 1.0:  # the hand's centre within about the box
                used.add(int(j))
                out.append((label, hands[int(j)]))
                break
    return out


def import_images(rows: Sequence[ImageRow], out: str | os.PathLike, *, origin: str = "images", pad: int = 0,
                  model: str = "full", all_hands: bool = False, single_only: bool = False,
                  progress: bool = True, tracker_options: dict[str, Any] | None = None) -> int:
    """Track each image of ``rows`` and append its labelled hand(s); images done before (in
    ``processed.jsonl``) are skipped. Returns the samples added.

    :param pad: replicate-pad the image by this many pixels before tracking (hands that fill a
        small photo are found far more often) and shift the keypoints back.
    :param all_hands: keep every hand found (default: the one most confident hand, or the hands
        matching the row's boxes).
    :param single_only: without boxes, skip images in which more than one hand was found (which
        hand shows the gesture is then unknown).
    """
    import cv2

    from gesturekit.tracking import Tracker, TrackerOptions

    done = processed_sources(out)
    todo = [r for r in rows if r.path not in done]
    if not todo:
        return 0
    opts = TrackerOptions(**{"model": model, "max_hands": 2, "mode": "image", **(tracker_options or {})})
    with Tracker(opts) as tracker, DatasetWriter(out, origin=origin) as wr:
        for row in _progress(todo, len(todo), origin, progress):
            img = cv2.imread(row.path)
            if img is None:
                wr.mark_processed(row.path, 0, "unreadable image")
                continue
            if pad:
                img = cv2.copyMakeBorder(img, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
            frame = tracker.process(img, t=0.0, index=0, source=row.path)
            picked = _pick(frame, row, pad, all_hands, single_only)
            for label, hand in picked:
                wr.add(Sample(label=label, keypoints=np.asarray(hand.keypoints) - pad,
                              keypoints3d=np.asarray(hand.keypoints3d), handedness=hand.handedness,
                              group=row.group, source=row.path, frame=0, width=frame.width - 2 * pad,
                              height=frame.height - 2 * pad,
                              extra={**row.extra, "score": round(float(hand.score), 4),
                                     "hands_found": len(frame.hands)}))
            wr.mark_processed(row.path, len(picked), None if picked else
                              ("no hand found" if not frame.hands else "no hand matched"))
        return wr.count


def _read_csv(path: Path) -> list[dict[str, str]]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise SourceError(f"{path}: cannot read the CSV ({e})") from None


def _need(path: Path, what: str) -> Path:
    if not path.exists():
        raise SourceError(f"{path}: not found ({what})")
    return path


def import_roboflow(src: str | os.PathLike, out: str | os.PathLike, **kw: Any) -> int:
    """Import ``asl/roboflow_valid`` (``labels.csv``: file, letter, YOLO boxes): the hand nearest
    each labelled box; group ``roboflow`` (mostly one person)."""
    src = Path(src)
    rows = []
    for r in _read_csv(_need(src / "labels.csv", "the roboflow labels")):
        label = r.get("letter_from_filename") or ""
        vals = [float(v) for v in (r.get("yolo_boxes_cxcywh_norm") or "").split()]
        boxes = tuple((label, tuple(vals[i:i + 4])) for i in range(0, len(vals) - 3, 4))
        rows.append(ImageRow(str(src / r["file"]), label, "roboflow", boxes))  # type: ignore[arg-type]
    return import_images(rows, out, origin="roboflow", **kw)


def import_hagrid(src: str | os.PathLike, out: str | os.PathLike, *, splits: Sequence[str] | None = None,
                  **kw: Any) -> int:
    """Import ``gestures/hagrid_sample``. ``test``/``val`` rows keep the hand of each annotated
    gesture box (not ``no_gesture``), group = HaGRID's ``user_id``; ``train`` rows (no boxes here)
    keep the image's hand only when exactly one was found, group ``train:<file>`` (HaGRID's
    people differ between its splits). ``extra.split`` holds the split."""
    src = Path(src)
    rows = []
    for r in _read_csv(_need(src / "labels.csv", "the HaGRID labels")):
        if splits and r["split"] not in splits:
            continue
        boxes: tuple = ()
        if r.get("labels"):
            names = r["labels"].split(";")
            xywh = json.loads(r.get("bboxes") or "[]")
            boxes = tuple((n, (x + w / 2, y + h / 2, w, h)) for n, (x, y, w, h) in zip(names, xywh, strict=False)
                          if n != "no_gesture")
        rows.append(ImageRow(str(src / r["file"]), r["label"], r.get("user_id") or f"train:{r['file']}",
                             boxes, {"split": r["split"]}))
    return import_images(rows, out, origin="hagrid", single_only=True, **kw)


def import_sign_digits(src: str | os.PathLike, out: str | os.PathLike, *, pad: int = 30, **kw: Any) -> int:
    """Import ``gestures/sign_digits`` (``labels.csv``: file, digit, person), padding each
    100 x 100 photo by ``pad`` pixels before tracking; group ``person<N>``."""
    src = Path(src)
    rows = [ImageRow(str(src / r["file"]), str(r["digit"]), f"person{r['person']}")
            for r in _read_csv(_need(src / "labels.csv", "the sign-digits labels"))]
    return import_images(rows, out, origin="sign-digits", pad=pad, **kw)


def rows_from_folder(src: str | os.PathLike, group: str = "") -> list[ImageRow]:
    """``folder/<label>/*.jpg`` -> rows labelled by sub-folder (sorted; ``group`` default: the folder's name)."""
    src = Path(src)
    if not src.is_dir():
        raise SourceError(f"{src}: not a folder")
    rows = [ImageRow(str(f), d.name, group or src.name)
            for d in sorted(p for p in src.iterdir() if p.is_dir())
            for f in sorted(d.rglob("*")) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not rows:
        raise SourceError(f"{src}: no images in label sub-folders (expected {src}/<label>/*.jpg)")
    return rows


def rows_from_csv(src: str | os.PathLike, group: str = "") -> list[ImageRow]:
    """A ``file,label[,group]`` CSV (paths relative to the CSV's folder) -> rows."""
    src = Path(src)
    recs = _read_csv(_need(src, "an image label CSV"))
    if not recs or not {"file", "label"} <= set(recs[0]):
        raise SourceError(f"{src}: expected the columns file,label[,group]")
    return [ImageRow(str((src.parent / r["file"]).resolve()), r["label"], r.get("group") or group or src.stem)
            for r in recs]


def import_image_folder(src: str | os.PathLike, out: str | os.PathLike, *, group: str = "", **kw: Any) -> int:
    """Images labelled by sub-folder (``src/<label>/*.jpg``)."""
    return import_images(rows_from_folder(src, group), out, origin=f"folder:{Path(src).name}", **kw)


def import_image_csv(src: str | os.PathLike, out: str | os.PathLike, *, group: str = "", **kw: Any) -> int:
    """Images listed in a ``file,label[,group]`` CSV."""
    return import_images(rows_from_csv(src, group), out, origin=f"csv:{Path(src).name}", **kw)


#: ``gesturekit import FORMAT``: format name -> importer ``(src, out, **options) -> samples added``.
IMPORTERS: dict[str, Callable[..., int]] = {
    "asl-npz": import_asl_npz,
    "keypoint-csv": import_keypoint_csv,
    "roboflow": import_roboflow,
    "hagrid": import_hagrid,
    "sign-digits": import_sign_digits,
    "image-folder": import_image_folder,
    "image-csv": import_image_csv,
}


def import_dataset(fmt: str, src: str | os.PathLike | Sequence[str | os.PathLike], out: str | os.PathLike,
                   **options: Any) -> int:
    """Run the importer named ``fmt`` (see :data:`IMPORTERS`)."""
    fn = IMPORTERS.get(fmt)
    if fn is None:
        raise InputError(f"unknown import format {fmt!r}; known: {', '.join(IMPORTERS)}")
    if fmt != "keypoint-csv" and isinstance(src, (list, tuple)):
        if len(src) != 1:
            raise InputError(f"{fmt} imports one source at a time")
        src = src[0]
    return fn(src, out, **options)
