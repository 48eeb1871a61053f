"""Named hand poses: one canonical pose per static library gesture, plus neutral and relaxed.

Folded thumbs are placed by a small inverse-kinematics solve (the thumb tip on the curled
fingers, across the palm, or on the index tip for ``ok``/``pinch``), so they stay consistent
with the skeleton when it changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache

import numpy as np
from scipy.optimize import least_squares

from synthetic._hand import FingerAngles, HandPose, Skeleton, ThumbAngles, WristPose, forward_kinematics

__all__ = ["POSE_NAMES", "STATIC_GESTURE_POSES", "pose", "canonical_wrist", "solve_thumb"]

EXTENDED = FingerAngles(4.0, 4.0, 2.0)
CURLED = FingerAngles(85.0, 100.0, 60.0)
RELAXED = FingerAngles(30.0, 45.0, 25.0, 2.0)
THUMB_OUT = ThumbAngles(spread=55.0, lift=8.0, mcp=4.0, ip=4.0, twist=45.0)
THUMB_UP = ThumbAngles(spread=62.0, lift=0.0, mcp=2.0, ip=2.0, twist=45.0)
THUMB_RELAXED = ThumbAngles(spread=15.0, lift=30.0, mcp=30.0, ip=30.0, twist=60.0)

#: A preferred folded thumb (the solver stays near it while reaching its target).
_THUMB_FOLD_PRIOR = np.array([15.0, 40.0, 35.0, 35.0, 60.0])
_LO = np.array([-25.0, -10.0, -10.0, -10.0, 0.0])
_HI = np.array([80.0, 85.0, 85.0, 95.0, 90.0])


def solve_thumb(fingers: HandPose, target: Callable[[np.ndarray], np.ndarray],
                skeleton: Skeleton | None = None, prior: np.ndarray = _THUMB_FOLD_PRIOR) -> ThumbAngles:
    """Thumb angles that bring the thumb tip to ``target(keypoints)`` (a point in the hand
    frame computed from the finger keypoints of ``fingers``), staying near ``prior``."""
    sk = skeleton or Skeleton()
    goal = target(forward_kinematics(fingers, sk))

    def tip(x: np.ndarray) -> np.ndarray:
        p = HandPose(ThumbAngles(*x), *fingers.fingers())
        return forward_kinematics(p, sk)[4]

    def residual(x: np.ndarray) -> np.ndarray:
        return np.concatenate([(tip(x) - goal) / 0.001, 0.02 * (x - prior)])

    x0 = np.clip(prior, _LO + 1e-6, _HI - 1e-6)
    res = least_squares(residual, x0, bounds=(_LO, _HI), x_scale=10.0)
    return ThumbAngles(*map(float, res.x))


def _palmar(kp: np.ndarray, *idx: int, lift: float = 0.010, dv: float = 0.0) -> np.ndarray:
    """The mean of keypoints ``idx`` moved by ``lift`` toward the palmar side and ``dv``
    along the fingers."""
    return kp[list(idx)].mean(axis=0) + np.array([0.0, dv, lift])


def _fingers(index: FingerAngles, middle: FingerAngles, ring: FingerAngles, pinky: FingerAngles,
             thumb: ThumbAngles = THUMB_RELAXED) -> HandPose:
    return HandPose(thumb, index, middle, ring, pinky)


def _spread(f: FingerAngles, deg: float) -> FingerAngles:
    return FingerAngles(f.mcp, f.pip, f.dip, deg)


@cache
def _build(name: str) -> HandPose:
    E, C = EXTENDED, CURLED
    if name == "neutral":
        return _fingers(FingerAngles(8, 10, 5), FingerAngles(8, 10, 5), FingerAngles(10, 12, 6),
                        FingerAngles(12, 14, 8), ThumbAngles(40.0, 20.0, 8.0, 8.0, 45.0))
    if name == "relaxed":
        # fingers loosely bent (no library gesture), the thumb resting beside the index
        return _fingers(RELAXED, FingerAngles(33, 48, 27), FingerAngles(36, 50, 28, -2), FingerAngles(40, 52, 30, -4),
                        THUMB_RELAXED)
    if name == "open_palm":
        return _fingers(_spread(E, 4), E, _spread(E, -3), _spread(E, -6), THUMB_OUT)
    if name == "four":
        f = _fingers(_spread(E, 2), E, _spread(E, -2), _spread(E, -4))
        return HandPose(solve_thumb(f, lambda k: _palmar(k, 9, 13, lift=0.020, dv=-0.012)), *f.fingers())
    if name == "fist":
        f = _fingers(C, C, C, C)
        return HandPose(solve_thumb(f, lambda k: _palmar(k, 6, 7, 10, 11)), *f.fingers())
    if name in ("thumbs_up", "thumbs_down"):
        return _fingers(C, C, C, C, THUMB_UP)
    if name == "pointing_up":
        f = _fingers(E, C, C, C)
        return HandPose(solve_thumb(f, lambda k: _palmar(k, 10, 11, 14, 15)), *f.fingers())
    if name == "victory":
        f = _fingers(_spread(E, 10), _spread(E, -8), C, C)
        return HandPose(solve_thumb(f, lambda k: _palmar(k, 14, 15, 18, 19)), *f.fingers())
    if name == "rock":
        f = _fingers(E, C, C, _spread(E, -6))
        return HandPose(solve_thumb(f, lambda k: _palmar(k, 10, 11, 14, 15)), *f.fingers())
    if name == "three":
        return _fingers(_spread(E, 8), _spread(E, -6), C, C, THUMB_OUT)
    if name == "i_love_you":
        return _fingers(_spread(E, 4), C, C, _spread(E, -8), THUMB_OUT)
    if name == "call":
        return _fingers(C, C, C, _spread(E, -10), ThumbAngles(65.0, 5.0, 2.0, 2.0, 45.0))
    if name in ("ok", "pinch"):
        # ok: the index bent into a ring; pinch: bent less (half, well clear of curled)
        index = FingerAngles(40.0, 50.0, 30.0) if name == "ok" else FingerAngles(35.0, 45.0, 28.0)
        rest = (_spread(E, -2), _spread(E, -5), _spread(E, -10)) if name == "ok" else (C, C, C)
        f = _fingers(index, *rest)
        # tips touching: the thumb tip just in front of the index tip (on its palmar side)
        thumb = solve_thumb(f, lambda k: k[8] + np.array([0.004, -0.004, 0.006]),
                            prior=np.array([30.0, 45.0, 15.0, 15.0, 45.0]))
        return HandPose(thumb, *f.fingers())
    raise KeyError(f"unknown pose {name!r}; expected one of {', '.join(POSE_NAMES)}")


#: The static library gesture -> the pose of the same name.
STATIC_GESTURE_POSES: tuple[str, ...] = (
    "open_palm", "fist", "thumbs_up", "thumbs_down", "victory", "pointing_up", "i_love_you", "ok", "call", "rock",
    "three", "four", "pinch",
)
#: Every named pose.
POSE_NAMES: tuple[str, ...] = STATIC_GESTURE_POSES + ("neutral", "relaxed")


def pose(name: str) -> HandPose:
    """The named pose (a static library gesture, ``neutral`` or ``relaxed``)."""
    return _build(name)


def canonical_wrist(name: str, x: float = 0.0, y: float = 0.0, z: float = 0.5, handedness: str = "right",
                    skeleton: Skeleton | None = None) -> WristPose:
    """How the canonical pose ``name`` is held in front of the camera, with the centre of its
    keypoints at (``x``, ``y``, ``z``) metres in the camera frame (a left hand is the mirror
    image of the right one): upright with the palm to the camera, except ``thumbs_up`` / ``thumbs_down``,
    turned so that the thumb points straight up / down in the image."""
    kp = forward_kinematics(pose(name), skeleton)
    roll = 0.0
    if name in ("thumbs_up", "thumbs_down"):
        d = kp[4] - kp[2]  # thumb MCP -> tip in the hand frame; at zero rotation image = (u, -v)
        roll = math.degrees(math.atan2(d[0], d[1]))  # counter-clockwise turn putting it straight up
        if name == "thumbs_down":
            roll += 180.0
    elif name == "pinch":
        roll = 95.0
    w = WristPose(0.0, 0.0, z, roll=roll)
    centre = (kp @ w.matrix().T).mean(axis=0)
    dx = centre[0] if handedness == "right" else -centre[0]
    return WristPose(x - dx, y - centre[1], z - centre[2], roll=roll)
