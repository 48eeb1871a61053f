"""Landmark augmentation for training: small rotations, scale, noise and finger-joint jitter.

Everything works on whole :class:`~gesturekit.learn.dataset.SampleArrays` at once (vectorized
over the hands); 2D keypoints and the 3D world keypoints (where known) get the same in-plane
rotation and the same joint jitter, so the two stay consistent.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gesturekit._exceptions import InputError
from gesturekit.learn.dataset import SampleArrays

__all__ = ["Augment", "augment", "parse_augment"]

#: Finger chains from the base joint to the tip (keypoint indices).
_FINGERS = np.array([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16], [17, 18, 19, 20]])


@dataclass(frozen=True)
class Augment:
    """How to make altered copies of the training hands.

    :param copies: altered copies per original sample (0 = no augmentation).
    :param rotate: largest in-plane rotation, degrees (uniform in +-rotate).
    :param scale: largest relative size change (uniform in 1 +- scale).
    :param noise: keypoint noise, standard deviation as a fraction of the palm size.
    :param joint: largest extra bend per finger joint, degrees.
    """

    copies: int = 4
    rotate: float = 12.0
    scale: float = 0.1
    noise: float = 0.02
    joint: float = 6.0

    def to_dict(self) -> dict[str, float]:
        return {"copies": self.copies, "rotate": self.rotate, "scale": self.scale, "noise": self.noise,
                "joint": self.joint}


def parse_augment(text: str | None) -> Augment:
    """``"none"``, ``"default"`` or ``"copies=4,rotate=12,scale=0.1,noise=0.02,joint=6"`` (any subset)."""
    if text is None or text.strip() in ("", "default"):
        return Augment()
    if text.strip() == "none":
        return Augment(copies=0)
    values: dict[str, float] = {}
    for part in text.split(","):
        key, sep, val = part.partition("=")
        key = key.strip()
        if not sep or key not in Augment.__dataclass_fields__:
            raise InputError(f"--augment: expected none, default or key=value pairs of "
                             f"{', '.join(Augment.__dataclass_fields__)}; got {part!r}")
        try:
            values[key] = int(val) if key == "copies" else float(val)
        except ValueError:
            raise InputError(f"--augment: {key} must be a number, got {val!r}") from None
        if values[key] < 0:
            raise InputError(f"--augment: {key} must be >= 0, got {val}")
    return Augment(**values)  # type: ignore[arg-type]


def _rot2(theta: np.ndarray) -> np.ndarray:
    c, s = np.cos(theta), np.sin(theta)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], -2)  # (..., 2, 2)


def _jitter(p: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Bend each finger joint of ``(N, 21, D)`` points by ``theta`` ``(N, 5, 3)`` radians in the x/y plane."""
    out = p.copy()
    for f in range(5):
        for j in range(3):  # rotate everything past joint j of finger f about that joint
            pivot = out[:, _FINGERS[f, j], :2]
            idx = _FINGERS[f, j + 1:]
            r = _rot2(theta[:, f, j])  # (N, 2, 2)
            rel = out[:, idx, :2] - pivot[:, None]
            out[:, idx, :2] = pivot[:, None] + np.einsum("nij,nkj->nki", r, rel)
    return out


def augment(arrays: SampleArrays, spec: Augment, seed: int = 0) -> SampleArrays:
    """``arrays`` followed by ``spec.copies`` altered copies of every row (labels, groups and the
    rest copied). Rows without 3D keypoints stay without them."""
    if spec.copies <= 0 or len(arrays) == 0:
        return arrays
    rng = np.random.default_rng(seed)
    idx = np.tile(np.arange(len(arrays)), spec.copies)
    base = arrays.subset(idx)
    n = len(idx)
    kp = base.keypoints.copy()
    k3 = base.keypoints3d.copy()
    has3 = np.isfinite(k3).all(axis=(1, 2))
    k3 = np.where(has3[:, None, None], k3, 0.0)
    # finger-joint jitter (in the image plane, and the same bends in the camera-aligned world x/y)
    theta = np.radians(rng.uniform(-spec.joint, spec.joint, size=(n, 5, 3)))
    kp = _jitter(kp, theta)
    k3 = _jitter(k3, theta)
    # rotation about the palm centre + scale
    ang = np.radians(rng.uniform(-spec.rotate, spec.rotate, size=n))
    r = _rot2(ang)
    s = rng.uniform(1 - spec.scale, 1 + spec.scale, size=n)
    c2 = kp[:, [5, 9, 13, 17]].mean(axis=1, keepdims=True)
    kp = c2 + s[:, None, None] * np.einsum("nij,nkj->nki", r, kp - c2)
    c3 = k3[:, [5, 9, 13, 17], :2].mean(axis=1, keepdims=True)
    k3[:, :, :2] = c3 + np.einsum("nij,nkj->nki", r, k3[:, :, :2] - c3)
    # noise relative to the palm size
    palm2 = np.linalg.norm(kp[:, [5, 9, 13, 17]] - kp[:, :1], axis=-1).mean(axis=1)
    kp = kp + rng.normal(0, 1, kp.shape) * (spec.noise * palm2)[:, None, None]
    palm3 = np.linalg.norm(k3[:, [5, 9, 13, 17]] - k3[:, :1], axis=-1).mean(axis=1)
    k3 = k3 + rng.normal(0, 1, k3.shape) * (spec.noise * palm3)[:, None, None]
    k3 = np.where(has3[:, None, None], k3, np.nan)
    return SampleArrays.concat([arrays, replace(base, keypoints=kp, keypoints3d=k3)])
