"""A tiny geometric hand for the feature and rule tests: known joint angles -> 21 keypoints.

Built in the hand's own frame (x across the knuckles toward the thumb, y from the wrist toward
the fingers, z out of the palm), then rotated into MediaPipe's world axes (x right, y down, z
away from the camera) and projected orthographically to pixels. Not a model of a real hand:
just exact geometry, so tests know the right answer.
"""

from __future__ import annotations

import numpy as np

from gesturekit import Frame, Hand

# knuckle x positions (hand frame) and finger bone lengths, metres
_KNUCKLE_X = {"index": 0.022, "middle": 0.0, "ring": -0.021, "pinky": -0.040}
_KNUCKLE_Y = {"index": 0.085, "middle": 0.088, "ring": 0.084, "pinky": 0.076}
_BONES = {"index": (0.040, 0.024, 0.020), "middle": (0.045, 0.028, 0.021), "ring": (0.042, 0.026, 0.020),
          "pinky": (0.032, 0.019, 0.018)}
_ORDER = ("index", "middle", "ring", "pinky")

# hand frame -> world for a right hand with the palm toward an unmirrored camera, fingers up
PALM_TO_CAMERA = np.diag([1.0, -1.0, -1.0])


def rotation(axis: str, degrees: float) -> np.ndarray:
    """A rotation matrix about a world axis."""
    a = np.radians(degrees)
    c, s = np.cos(a), np.sin(a)
    i = "xyz".index(axis)
    m = np.eye(3)
    j, k = [n for n in range(3) if n != i]
    m[j, j], m[j, k], m[k, j], m[k, k] = c, -s, s, c
    return m


def hand_points(bends: dict[str, tuple[float, float, float]] | None = None, thumb: str = "out",
                spread: dict[str, float] | None = None) -> np.ndarray:
    """(21, 3) keypoints in the hand frame. ``bends[finger]`` = (MCP, PIP, DIP) flexion in degrees
    (toward the palm side, +z); ``thumb`` is ``"out"`` (extended sideways), ``"up"`` (along the
    fingers) or ``"folded"`` (across the palm). ``spread[finger]`` turns the finger sideways in
    the palm plane by that many degrees (positive toward the thumb)."""
    bends = bends or {}
    spread = spread or {}
    p = np.zeros((21, 3))
    for f_i, f in enumerate(_ORDER):
        base = 5 + 4 * f_i
        p[base] = (_KNUCKLE_X[f], _KNUCKLE_Y[f], 0.0)
        angle, side = 0.0, np.radians(spread.get(f, 0.0))
        for j, (length, bend) in enumerate(zip(_BONES[f], bends.get(f, (0.0, 0.0, 0.0)), strict=True)):
            angle += np.radians(bend)
            p[base + j + 1] = p[base + j] + length * np.array([np.sin(side) * np.cos(angle),
                                                               np.cos(side) * np.cos(angle), np.sin(angle)])
    p[1] = (0.022, 0.025, 0.008)  # thumb CMC
    direction = {"out": np.array([0.8, 0.6, 0.0]), "up": np.array([0.55, 1.0, 0.0]),
                 "folded": np.array([-0.9, 0.35, 0.25])}[thumb]
    start = p[1] if thumb != "folded" else p[1] + np.array([0.012, 0.02, 0.01])
    direction = direction / np.linalg.norm(direction)
    for j, length in enumerate((0.035, 0.030, 0.025)):
        p[2 + j] = (start if j == 0 else p[1 + j]) + length * direction
    return p


def make_hand(points_hand_frame: np.ndarray, track_id: int = 1, handedness: str = "right",
              rot: np.ndarray | None = None, offset_px: tuple[float, float] = (320.0, 240.0),
              px_per_m: float = 1500.0, mirror_x: bool = False, score: float = 0.9) -> Hand:
    """A Hand from hand-frame points: rotated to world axes (``PALM_TO_CAMERA`` then ``rot``),
    optionally mirrored (x -> -x, which turns a right hand into a left one), projected to pixels."""
    w = points_hand_frame @ PALM_TO_CAMERA.T
    if rot is not None:
        w = w @ rot.T
    if mirror_x:
        w = w * np.array([-1.0, 1.0, 1.0])
    w = w - w[[5, 9, 13, 17]].mean(axis=0)
    px = w[:, :2] * px_per_m + np.array(offset_px)
    return Hand(track_id, handedness, 0.95, score, px, w)


def frame(*hands: Hand, t: float = 0.0, index: int = 0, width: int = 640, height: int = 480) -> Frame:
    """A Frame holding ``hands``."""
    return Frame(index=index, t=t, width=width, height=height, source="synthetic", hands=hands)


# named poses in the hand frame: fingers (MCP, PIP, DIP) flexion; thumb placement
CURLED = (70.0, 100.0, 60.0)
_SPREAD = {"index": 8.0, "ring": -6.0, "pinky": -12.0}  # fingers fanned out (real open hands spread them)
POSES: dict[str, dict] = {
    "open_palm": {"bends": {}, "thumb": "out", "spread": _SPREAD},
    "fist": {"bends": {f: CURLED for f in _ORDER}, "thumb": "folded"},
    "four": {"bends": {}, "thumb": "folded", "spread": _SPREAD},
    "stop": {"bends": {}, "thumb": "up"},  # fingers together, the thumb alongside the index
    "victory": {"bends": {"ring": CURLED, "pinky": CURLED}, "thumb": "folded", "spread": {"index": 10, "middle": -8}},
    "two_up": {"bends": {"ring": CURLED, "pinky": CURLED}, "thumb": "folded"},  # a V held closed
    "rock": {"bends": {"middle": CURLED, "ring": CURLED}, "thumb": "folded"},
    "i_love_you": {"bends": {"middle": CURLED, "ring": CURLED}, "thumb": "out"},
    "call": {"bends": {"index": CURLED, "middle": CURLED, "ring": CURLED}, "thumb": "out"},
    "pointing_up": {"bends": {"middle": CURLED, "ring": CURLED, "pinky": CURLED}, "thumb": "folded"},
    "three": {"bends": {"ring": CURLED, "pinky": CURLED}, "thumb": "out"},
    "thumbs_up": {"bends": {f: CURLED for f in _ORDER}, "thumb": "up"},
}


def pose_points(name: str) -> np.ndarray:
    """Hand-frame points of a named pose."""
    return hand_points(**POSES[name])
