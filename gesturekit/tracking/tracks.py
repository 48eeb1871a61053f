"""Stable track ids for hands across frames.

Hands are matched to the previous frame's tracks by palm-centre distance (with a
constant-velocity prediction) plus a penalty when the handedness label disagrees, so two
hands that cross keep their ids as long as their handedness stays consistent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["TrackAssigner"]

_PALM = [0, 5, 9, 13, 17]


@dataclass
class _Track:
    id: int
    centre: np.ndarray
    velocity: np.ndarray
    handedness: str
    t: float


class TrackAssigner:
    """Assigns ids to per-frame hand detections.

    :param max_jump: largest plausible palm-centre jump between frames, as a fraction of the
        image diagonal.
    :param handedness_penalty: cost added (in the same units) when labels disagree.
    :param keep_for: seconds a lost track is remembered so a hand that reappears nearby keeps
        its id.
    """

    def __init__(self, max_jump: float = 0.25, handedness_penalty: float = 0.3, keep_for: float = 0.5) -> None:
        self.max_jump, self.handedness_penalty, self.keep_for = max_jump, handedness_penalty, keep_for
        self._tracks: list[_Track] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget all tracks (ids keep increasing)."""
        self._tracks = []

    def assign(self, keypoints: list[np.ndarray], handedness: list[str], t: float, diag: float) -> list[int]:
        """Return one id per detection, in the order given."""
        self._tracks = [tr for tr in self._tracks if t - tr.t <= self.keep_for]
        centres = [kp[_PALM].mean(axis=0) for kp in keypoints]
        n, m = len(centres), len(self._tracks)
        ids = [-1] * n
        if n and m:
            dist = np.empty((n, m))
            mismatch = np.empty((n, m))
            for j, tr in enumerate(self._tracks):
                predicted = tr.centre + tr.velocity * (t - tr.t)
                dist[:, j] = np.linalg.norm(np.asarray(centres) - predicted, axis=1) / diag
                mismatch[:, j] = [h != tr.handedness for h in handedness]
            cost = dist + self.handedness_penalty * mismatch
            # Greedy on sorted costs: optimal enough for two hands.
            used: set[int] = set()
            for flat in np.argsort(cost, axis=None):
                i, j = divmod(int(flat), m)
                if ids[i] != -1 or j in used or dist[i, j] > self.max_jump:
                    continue
                ids[i] = self._tracks[j].id
                used.add(j)
        by_id = {tr.id: tr for tr in self._tracks}
        for i, c in enumerate(centres):
            if ids[i] == -1:
                ids[i] = self._next_id
                self._next_id += 1
                by_id[ids[i]] = _Track(ids[i], c, np.zeros(2), handedness[i], t)
            else:
                tr = by_id[ids[i]]
                dt = t - tr.t
                if dt > 0:
                    tr.velocity = 0.5 * tr.velocity + 0.5 * (c - tr.centre) / dt
                tr.centre, tr.handedness, tr.t = c, handedness[i], t
        self._tracks = list(by_id.values())
        return ids
