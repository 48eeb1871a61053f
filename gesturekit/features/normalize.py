"""The canonical hand frame: hands of any position, size, rotation and side brought into one frame.

Everything here is vectorized numpy over arrays of shape ``(N, 21, 3)`` (N hands, 21 keypoints,
x/y/z); no per-keypoint Python objects.

Conventions of the canonical frame (for a right hand, and for a left hand when it is mirrored
onto a right one, the default):

- origin: the mean of the index, middle, ring and pinky MCP knuckles (as ``Hand.keypoints3d``);
- scale: one *palm unit* is the mean distance from the wrist to those four knuckles;
- ``x``: across the knuckles, from the pinky side toward the index/thumb side;
- ``y``: along the palm, from the wrist toward the middle knuckle (the fingers' way);
- ``z``: the palm normal, pointing out of the palm (the side the palm faces).

Input coordinates are MediaPipe's world axes (x right in the image, y down, z away from the
camera), which form a right-handed system. For a right hand ``z = x × y`` points out of the palm;
for a left hand out of its back, so mirroring a left hand onto a right one just flips the sign of
``z`` (the canonical frame of a left hand is then a mirror image, which is the point).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = [
    "WRIST",
    "PALM_KNUCKLES",
    "palm_center",
    "palm_size",
    "handedness_sign",
    "palm_axes",
    "canonicalize",
    "angle_between",
]

WRIST = 0
#: Index, middle, ring and pinky MCP knuckles.
PALM_KNUCKLES: tuple[int, int, int, int] = (5, 9, 13, 17)
_INDEX_MCP, _MIDDLE_MCP, _PINKY_MCP = 5, 9, 17
_EPS = 1e-9


def _as_batch(points: np.ndarray) -> np.ndarray:
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3 or p.shape[1] != 21 or p.shape[2] not in (2, 3):
        raise ValueError(f"expected hand keypoints of shape (N, 21, 3) or (21, 3), got {np.shape(points)}")
    return p


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)


def palm_center(points: np.ndarray) -> np.ndarray:
    """Mean of the four MCP knuckles: ``(N, 21, D) -> (N, D)``."""
    p = _as_batch(points)
    return p[:, PALM_KNUCKLES].mean(axis=1)


def palm_size(points: np.ndarray) -> np.ndarray:
    """One palm unit: mean wrist-to-knuckle distance, ``(N, 21, D) -> (N,)`` (same units as the input)."""
    p = _as_batch(points)
    return np.linalg.norm(p[:, PALM_KNUCKLES] - p[:, WRIST:WRIST + 1], axis=-1).mean(axis=1)


def handedness_sign(handedness: Sequence[str] | np.ndarray | str | None, n: int) -> np.ndarray:
    """``+1`` for right hands, ``-1`` for left hands (``None``: all right), shape ``(n,)``."""
    if handedness is None:
        return np.ones(n)
    if isinstance(handedness, str):
        handedness = [handedness] * n
    h = np.asarray(handedness)
    if h.shape != (n,):
        raise ValueError(f"expected {n} handedness labels, got {h.shape}")
    if h.dtype.kind in "US":
        if not np.isin(h, ("left", "right")).all():
            raise ValueError("handedness must be 'left' or 'right'")
        return np.where(h == "left", -1.0, 1.0)
    return np.where(h.astype(np.float64) < 0, -1.0, 1.0)


def palm_axes(points: np.ndarray, handedness: Sequence[str] | np.ndarray | None = None,
              mirror_left: bool = True) -> np.ndarray:
    """The palm's own axes as the rows of ``(N, 3, 3)`` matrices (x across, y along, z normal).

    :param points: ``(N, 21, 3)`` keypoints in MediaPipe's world axes (or (21, 3)).
    :param handedness: ``"left"``/``"right"`` per hand (anatomical); ``None`` treats all as right.
    :param mirror_left: make ``z`` point out of the palm for left hands too (a reflection), so
        that a left hand's canonical coordinates look like a right hand's.
    :returns: ``R`` with ``R[i] @ v`` giving ``v`` in hand ``i``'s palm frame.
    """
    p = _as_batch(points)
    y = _unit(p[:, _MIDDLE_MCP] - p[:, WRIST])
    across = p[:, _INDEX_MCP] - p[:, _PINKY_MCP]
    x = _unit(across - (across * y).sum(-1, keepdims=True) * y)
    z = np.cross(x, y)
    if mirror_left:
        z = z * handedness_sign(handedness, len(p))[:, None]
    return np.stack([x, y, z], axis=1)


def canonicalize(points: np.ndarray, handedness: Sequence[str] | np.ndarray | None = None,
                 mirror_left: bool = True) -> np.ndarray:
    """Keypoints in the canonical hand frame: centred, in palm units, in the palm's axes.

    Invariant to translation, scale and rotation of the hand; with ``mirror_left`` a left hand
    and its mirror-image right hand give the same result.

    :param points: ``(N, 21, 3)`` (or ``(21, 3)``) in MediaPipe's world axes, any unit.
    :param handedness: anatomical ``"left"``/``"right"`` per hand.
    :returns: ``(N, 21, 3)`` canonical coordinates.
    """
    p = _as_batch(points)
    centred = p - palm_center(p)[:, None]
    scaled = centred / np.maximum(palm_size(p), _EPS)[:, None, None]
    return np.einsum("nij,nkj->nki", palm_axes(p, handedness, mirror_left), scaled)


def angle_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Angle in degrees between vectors along the last axis (broadcasting), 0..180."""
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), _EPS)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
