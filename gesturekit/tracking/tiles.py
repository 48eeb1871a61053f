"""A second, closer look at a still image for hands too small for the palm detector.

MediaPipe's palm detector sees the whole image shrunk to 192 x 192 pixels, so a hand that
fills a few percent of a photo's width is a handful of detector pixels and is missed. Looking
again at overlapping square tiles (half the image's shorter side, overlapping by a quarter),
each given to the landmarker as an image of its own, shows such a hand about 2.7 times larger
in a 4:3 photo. (Upscaling a tile adds nothing: the detector shrinks it to 192 pixels again.)

A tile also shows parts of larger hands and things a close look mistakes for hands. So a hand
found in a tile is kept only when

- it is no part of a hand the full view found (its box lies mostly outside theirs,
  :func:`~gesturekit.tracking.dedupe.inside`), and no repeat of a better one from another tile
  (:func:`~gesturekit.tracking.dedupe.duplicates`);
- a second look confirms it: in a crop four times its size around it (:func:`confirm_box`) the
  landmarker finds the same hand again.

The hands kept are mapped back to the full image's pixels (the tracker does this).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["tile_boxes", "confirm_box"]


def tile_boxes(width: int, height: int, *, fraction: float = 0.5,
               overlap: float = 0.25) -> list[tuple[int, int, int, int]]:
    """Overlapping square tiles covering a ``width`` x ``height`` image, as ``(x0, y0, x1, y1)``.

    :param fraction: a tile's side as a fraction of the image's shorter side.
    :param overlap: the least overlap of neighbouring tiles, as a fraction of the side (so a hand
        smaller than that fraction of a tile lies whole in at least one tile).
    """
    side = max(1, int(round(min(width, height) * fraction)))
    boxes = []
    ys, xs = _starts(height, side, overlap), _starts(width, side, overlap)
    for y in ys:
        for x in xs:
            boxes.append((x, y, min(x + side, width), min(y + side, height)))
    return boxes


def _starts(length: int, side: int, overlap: float) -> list[int]:
    if side >= length:
        return [0]
    stride = side * (1.0 - overlap)
    count = math.ceil((length - side) / stride) + 1
    step = (length - side) / (count - 1)
    return [int(round(i * step)) for i in range(count)]


def confirm_box(keypoints: np.ndarray, width: int, height: int, *, context: float = 4.0) -> tuple[int, int, int, int]:
    """The square crop, clipped to the image, for a second look at a hand found in a tile:
    ``context`` times the longer side of its keypoint box, centred on it. There the palm detector
    sees the hand at a comfortable size: a real hand is found again in the same place, while most
    of what a tile mistakes for a hand (a chin, an elbow, a pattern on a shirt) is not."""
    kp = np.asarray(keypoints, dtype=np.float64)
    lo, hi = kp.min(axis=0), kp.max(axis=0)
    half = 0.5 * context * float((hi - lo).max())
    cx, cy = 0.5 * (lo + hi)
    x0, y0 = max(0, int(math.floor(cx - half))), max(0, int(math.floor(cy - half)))
    x1, y1 = min(width, int(math.ceil(cx + half))), min(height, int(math.ceil(cy + half)))
    return x0, y0, max(x1, x0 + 1), max(y1, y0 + 1)
