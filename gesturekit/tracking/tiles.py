"""A second, closer look at a still image for hands too small for the palm detector.

MediaPipe's palm detector sees the whole image shrunk to 192 x 192 pixels, so a hand that
fills a few percent of a photo's width is a handful of detector pixels and is missed. Looking
again at overlapping square tiles, each one given to the landmarker as an image of its own,
shows such a hand 2-3 times larger. The hands found in the tiles are mapped back to the full
image's pixels and merged with those of the full view
(:func:`~gesturekit.tracking.dedupe.duplicates`).
"""

from __future__ import annotations

import math

__all__ = ["tile_boxes"]


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
