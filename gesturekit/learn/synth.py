"""Synthetic signers: new, plausible hands made from real labelled ones.

A classifier trained on few people learns their hands (bone proportions, how far they spread
their fingers, how they hold the hand toward the camera) along with the gesture.
:func:`synthetic_signers` re-renders every sample as ``n`` made-up people would show it:

- *retargeting*: each bone keeps its direction (so every joint angle of the pose is kept) while
  its length is scaled by the signer's proportions (per-finger length, per-bone ratio, palm
  width), rebuilt from the wrist outward;
- *finger spread*: the angle of the index, ring and pinky fingers to the middle finger, in the
  palm plane, is scaled by the signer's spread factor (fingers held together stay together, a V
  stays a V);
- *view*: the hand is rotated about the palm centre (image-plane roll, some pitch and yaw) and
  projected with a perspective camera at a random distance;
- *noise*: Gaussian landmark noise of a fraction of a palm unit.

Samples with world keypoints are moved in 3D (the image keypoints lifted with the world depth);
2D-only samples (all-NaN ``keypoints3d``) are lifted onto a flat plane, so pitch and yaw become a
foreshortening of the image. The output keeps the input's layout: pixels stay pixels, world
keypoints stay metres (NaN stays NaN), ``groups`` are kept (so leave-one-group-out evaluation of
synthetic data stays leak-free) and ``sources`` get a ``#synthK`` suffix.

:func:`balance_classes` subsamples a dataset to the same number of rows per class.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesturekit._exceptions import InputError
from gesturekit.learn.dataset import SampleArrays

__all__ = ["SynthParams", "synthetic_signers", "balance_classes"]

_EPS = 1e-9
# kinematic tree: the parent of each keypoint 1..20 (0 is the wrist), in an order where a parent
# always comes before its children
_PARENT = np.array([-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 0, 13, 14, 15, 0, 17, 18, 19])
_FINGER_OF = np.array([-1, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4])
_PALM_BONE = np.array([False, True, False, False, False, True, False, False, False, True, False, False,
                       False, True, False, False, False, True, False, False, False])
_KNUCKLES = np.array([5, 9, 13, 17])
_SPREAD_FINGERS = ((5, (6, 7, 8)), (13, (14, 15, 16)), (17, (18, 19, 20)))  # (MCP, joints moved)


@dataclass(frozen=True)
class SynthParams:
    """How much synthetic signers vary (standard deviations unless said otherwise).

    :param finger_length: log-scale of each finger's length (one factor per finger and signer).
    :param bone_ratio: log-scale of each bone on top of that (per bone and signer).
    :param palm_width: log-scale of the palm's width across the knuckles (per signer).
    :param spread: the finger-spread factor is drawn uniformly from ``1 +- spread`` per signer.
    :param roll: image-plane rotation in degrees (per sample).
    :param pitch: rotation about the image's horizontal axis in degrees (per sample).
    :param yaw: rotation about the image's vertical axis in degrees (per sample).
    :param distance: camera distance in palm units, uniform in this range (perspective).
    :param noise: landmark noise in palm units.
    """

    finger_length: float = 0.07
    bone_ratio: float = 0.06
    palm_width: float = 0.06
    spread: float = 0.3
    roll: float = 15.0
    pitch: float = 45.0
    yaw: float = 60.0
    distance: tuple[float, float] = (6.0, 25.0)
    noise: float = 0.02


def _rodrigues(axis: np.ndarray, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices ``(N, 3, 3)`` about unit ``axis`` ``(N, 3)`` by ``angle`` ``(N,)`` radians."""
    x, y, z = axis[:, 0], axis[:, 1], axis[:, 2]
    c, s = np.cos(angle), np.sin(angle)
    t = 1.0 - c
    return np.stack([np.stack([c + x * x * t, x * y * t - z * s, x * z * t + y * s], axis=1),
                     np.stack([y * x * t + z * s, c + y * y * t, y * z * t - x * s], axis=1),
                     np.stack([z * x * t - y * s, z * y * t + x * s, c + z * z * t], axis=1)], axis=1)


def _euler(roll: np.ndarray, pitch: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """``Rz(roll) @ Rx(pitch) @ Ry(yaw)`` for arrays of angles in radians: ``(N, 3, 3)``."""
    n = len(roll)
    ez, ex, ey = (np.tile(np.eye(3)[i], (n, 1)) for i in (2, 0, 1))
    return _rodrigues(ez, roll) @ _rodrigues(ex, pitch) @ _rodrigues(ey, yaw)


def _lift(a: SampleArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Image keypoints with a depth in the same unit: ``(N, 21, 3)``, has-3D mask, px per metre."""
    kp = np.asarray(a.keypoints, dtype=np.float64)
    k3 = np.asarray(a.keypoints3d, dtype=np.float64)
    has3 = np.isfinite(k3).all(axis=(1, 2))
    w = np.nan_to_num(k3)
    # least-squares scale of the world x/y onto the image (pixels or normalized units per metre)
    kc = kp - kp.mean(axis=1, keepdims=True)
    wc = w[:, :, :2] - w[:, :, :2].mean(axis=1, keepdims=True)
    k = np.sqrt((kc ** 2).sum(axis=(1, 2)) / np.maximum((wc ** 2).sum(axis=(1, 2)), _EPS))
    z = np.where(has3[:, None], (w[:, :, 2] - w[:, :1, 2]) * k[:, None], 0.0)
    return np.concatenate([kp, z[:, :, None]], axis=2), has3, k


def synthetic_signers(arrays: SampleArrays, n: int, seed: int = 0,
                      params: SynthParams = SynthParams()) -> SampleArrays:
    """``n`` synthetic versions of every sample (``len(arrays) * n`` rows, signer-major).

    Each of the ``n`` synthetic signers has its own hand proportions and finger spread, shared by
    all the samples it re-renders; view and noise are drawn per sample.

    :param arrays: real samples (pixels or normalized keypoints, world keypoints or NaN).
    :param n: number of synthetic signers (0 gives an empty result).
    :param seed: random seed; the same seed gives the same rows.
    :param params: how much signers and views vary.
    :returns: the synthetic samples; labels, handedness, groups, frames and sizes are the
        source rows', sources get ``#synthK``.
    :raises InputError: on a negative ``n``.
    """
    if n < 0:
        raise InputError(f"synthetic signers: n must be >= 0, got {n}")
    m = len(arrays)
    if n == 0 or m == 0:
        return arrays.subset(np.zeros(0, dtype=np.int64))
    rng = np.random.default_rng(seed)
    q0, has3, kpm = _lift(arrays)
    centre0 = q0[:, _KNUCKLES].mean(axis=1)
    unit0 = np.maximum(np.linalg.norm(q0[:, _KNUCKLES, :2] - q0[:, :1, :2], axis=2).mean(axis=1), _EPS)
    # the palm normal of each sample (for spreading fingers), from the lifted points
    across = q0[:, 5] - q0[:, 17]
    along = q0[:, 9] - q0[:, 0]
    normal = np.cross(across, along)
    flat = np.linalg.norm(normal, axis=1) < _EPS
    normal[flat] = (0.0, 0.0, 1.0)
    normal /= np.linalg.norm(normal, axis=1, keepdims=True)
    bones0 = q0[:, 1:] - q0[:, _PARENT[1:]]  # (M, 20, 3)

    parts = []
    for s in range(n):
        finger = np.exp(rng.normal(0.0, params.finger_length, 5))
        ratio = np.exp(rng.normal(0.0, params.bone_ratio, 20))
        width = np.exp(rng.normal(0.0, params.palm_width))
        spread = rng.uniform(1.0 - params.spread, 1.0 + params.spread)
        scale = finger[_FINGER_OF[1:]] * ratio
        scale = np.where(_PALM_BONE[1:], ratio, scale)  # palm bones: only their own ratio
        bones = bones0 * scale[None, :, None]
        q = np.empty_like(q0)
        q[:, 0] = q0[:, 0]
        for j in range(1, 21):
            q[:, j] = q[:, _PARENT[j]] + bones[:, j - 1]
        # palm width: move the index and pinky rays (and their fingers) away from the middle one
        mid_axis = q[:, 9] - q[:, 0]
        mid_axis /= np.maximum(np.linalg.norm(mid_axis, axis=1, keepdims=True), _EPS)
        for mcp, off in ((5, 1.0), (13, -0.5), (17, -1.0)):
            rel = q[:, mcp] - q[:, 0]
            perp = rel - (rel * mid_axis).sum(1, keepdims=True) * mid_axis
            shift = perp * (width - 1.0) * abs(off)
            q[:, mcp:mcp + 4] += shift[:, None]
        # finger spread about the palm normal at each MCP, relative to the middle finger
        mid_dir = q[:, 10] - q[:, 9]
        for mcp, joints in _SPREAD_FINGERS:
            d = q[:, mcp + 1] - q[:, mcp]
            a = mid_dir - (mid_dir * normal).sum(1, keepdims=True) * normal
            b = d - (d * normal).sum(1, keepdims=True) * normal
            ang = np.arctan2((np.cross(a, b) * normal).sum(1), (a * b).sum(1))
            rot = _rodrigues(normal, ang * (spread - 1.0))
            rel = q[:, list(joints)] - q[:, mcp:mcp + 1]
            q[:, list(joints)] = q[:, mcp:mcp + 1] + np.einsum("nij,nkj->nki", rot, rel)
        # view: rotate about the palm centre, perspective at a random distance, noise
        roll = np.radians(rng.normal(0.0, params.roll, m))
        pitch = np.radians(rng.normal(0.0, params.pitch, m))
        yaw = np.radians(rng.normal(0.0, params.yaw, m))
        r = _euler(roll, pitch, yaw)
        rel = (q - centre0[:, None]) / unit0[:, None, None]
        rel = np.einsum("nij,nkj->nki", r, rel)
        dist = rng.uniform(*params.distance, m)
        persp = dist[:, None] / np.maximum(dist[:, None] + rel[:, :, 2], 0.5)
        rel = rel + rng.normal(0.0, params.noise, rel.shape)
        kp = centre0[:, None, :2] + rel[:, :, :2] * persp[:, :, None] * unit0[:, None, None]
        world = rel * (unit0 / kpm)[:, None, None]  # back to metres, about the palm centre
        world = world - world[:, :1] + np.nan_to_num(arrays.keypoints3d[:, :1])
        k3 = np.where(has3[:, None, None], world, np.nan)
        parts.append(SampleArrays(
            labels=arrays.labels, keypoints=kp, keypoints3d=k3, handedness=arrays.handedness,
            groups=arrays.groups, sources=np.char.add(arrays.sources.astype(str), f"#synth{s}"),
            frames=arrays.frames, sizes=arrays.sizes))
    return SampleArrays.concat(parts)


def balance_classes(arrays: SampleArrays, per_class: int | None = None, seed: int = 0) -> SampleArrays:
    """The same number of rows for every label (``per_class``, default the rarest label's count),
    drawn without replacement; classes with fewer rows keep all of theirs."""
    labels, counts = np.unique(arrays.labels, return_counts=True)
    if len(labels) == 0:
        return arrays
    k = int(counts.min()) if per_class is None else int(per_class)
    if k <= 0:
        raise InputError(f"balance classes: per_class must be > 0, got {per_class}")
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(arrays.labels == lab))[:k] for lab in labels]
    return arrays.subset(np.sort(np.concatenate(keep)))
