"""Merging duplicate detections of one hand.

MediaPipe's HandLandmarker sometimes returns the same hand twice in one frame, a few pixels
apart (a fresh palm detection beside the hand it is already following in video mode, or the
same hand seen in two overlapping tiles of a still image). Two detections are the same hand
when their keypoint boxes overlap and their corresponding keypoints lie close together,
measured in palm lengths; the one with the higher score is kept.
"""

from __future__ import annotations

import numpy as np

__all__ = ["duplicates", "inside", "same_hand", "palm_lengths"]

_WRIST_TO_KNUCKLES = np.array([5, 9, 13, 17])


def palm_lengths(keypoints: np.ndarray) -> np.ndarray:
    """Mean wrist-to-knuckle distance of each hand, in the keypoints' units: ``(N, 21, D) -> (N,)``."""
    kp = np.asarray(keypoints, dtype=np.float64)
    return np.linalg.norm(kp[:, _WRIST_TO_KNUCKLES] - kp[:, :1], axis=-1).mean(axis=1)


def _boxes(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 21, 2)
    return kp.min(axis=1), kp.max(axis=1)


def _intersections(lo_a: np.ndarray, hi_a: np.ndarray, lo_b: np.ndarray, hi_b: np.ndarray) -> np.ndarray:
    """``(Na, Nb)`` areas of the intersections of boxes ``a`` and ``b``."""
    return np.clip(np.minimum(hi_a[:, None], hi_b[None]) - np.maximum(lo_a[:, None], lo_b[None]), 0, None).prod(-1)


def inside(keypoints: np.ndarray, others: np.ndarray, *, fraction: float = 0.5) -> np.ndarray:
    """``(N,)``: whether more than ``fraction`` of each hand's keypoint box lies inside the box of
    one of ``others`` (a fragment of a larger hand, or the same hand again).

    :param keypoints: ``(N, 21, 2)`` pixel keypoints; ``others``: ``(M, 21, 2)``.
    """
    lo, hi = _boxes(keypoints)
    if not len(lo) or not len(others):
        return np.zeros(len(lo), dtype=bool)
    olo, ohi = _boxes(others)
    area = np.maximum((hi - lo).prod(-1), 1e-9)
    return (_intersections(lo, hi, olo, ohi) > fraction * area[:, None]).any(axis=1)


def same_hand(keypoints: np.ndarray, hand: np.ndarray, *, max_distance: float = 0.8) -> np.ndarray:
    """``(N,)``: which detections' 21 keypoints are on average within ``max_distance`` palm lengths
    (of the larger palm) of those of ``hand`` ``(21, 2)``."""
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, 21, 2)
    ref = np.asarray(hand, dtype=np.float64)
    gap = np.linalg.norm(kp - ref, axis=-1).mean(-1)
    return gap <= max_distance * np.maximum(palm_lengths(kp), palm_lengths(ref[None]))


def duplicates(keypoints: np.ndarray, scores: np.ndarray, *, min_iou: float = 0.4,
               max_distance: float = 0.8) -> np.ndarray:
    """Which detections repeat a better-scoring detection of the same hand.

    Two detections are the same hand when the boxes around their keypoints overlap by at least
    ``min_iou`` (intersection over union) and their 21 corresponding keypoints are on average
    at most ``max_distance`` palm lengths apart (the larger palm of the two). Of a group of
    duplicates the detection with the highest score stays (the first on a tie).

    :param keypoints: ``(N, 21, 2)`` pixel keypoints.
    :param scores: ``(N,)`` detection scores.
    :returns: ``(N,)`` bool, True for a detection to drop.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    n = len(kp)
    drop = np.zeros(n, dtype=bool)
    if n < 2:
        return drop
    lo, hi = _boxes(kp)
    inter = _intersections(lo, hi, lo, hi)
    area = (hi - lo).prod(-1)
    iou = inter / np.maximum(area[:, None] + area[None] - inter, 1e-9)
    mean_gap = np.linalg.norm(kp[:, None] - kp[None], axis=-1).mean(-1)  # (N, N)
    palm = palm_lengths(kp)
    same = (iou >= min_iou) & (mean_gap <= max_distance * np.maximum(palm[:, None], palm[None]))
    np.fill_diagonal(same, False)
    kept = np.zeros(n, dtype=bool)
    for i in np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable"):  # best first
        if (same[i] & kept).any():  # repeats a detection that stays
            drop[i] = True
        else:
            kept[i] = True
    return drop
