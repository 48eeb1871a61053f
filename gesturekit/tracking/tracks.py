"""Stable track ids and one steady handedness per track, across frames.

Hands are matched to the tracks of earlier frames by the distance of the palm centre to the
path the track is predicted to have taken (from its last position along its velocity), plus
a penalty when the handedness label disagrees with the track's, so two hands that cross keep
their ids as long as their handedness stays consistent. A track that was lost for a few
frames (a fast, blurred sweep) is looked for in a wider gate, and keeps its id when the hand
comes back anywhere along its path: it may have gone on, slowed down or stopped meanwhile.
Each track's handedness is a vote over its frames (:class:`HandednessVote`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gesturekit.tracking.handedness import HandednessVote

__all__ = ["TrackAssigner"]

_PALM = [0, 5, 9, 13, 17]


@dataclass
class _Track:
    id: int
    centre: np.ndarray
    velocity: np.ndarray
    vote: HandednessVote
    t: float
    missed: int = 0  # frames since it was last seen


class TrackAssigner:
    """Assigns ids to per-frame hand detections and keeps each track's handedness vote.

    :param max_jump: largest plausible palm-centre jump between consecutive frames (away from
        the predicted path), as a fraction of the image diagonal.
    :param handedness_penalty: cost added (in the same units) when a detection's label
        disagrees with the track's.
    :param keep_for: seconds a lost track is remembered so a hand that reappears nearby keeps
        its id.
    :param lost_gate: how much the gate widens for a lost track, growing linearly with the time
        it has been lost: ``max_jump * (1 + lost_gate * lost / keep_for)``.
    :param half_life: seconds after which a frame's handedness vote counts half.
    :param margin: how far the handedness vote must swing to change a track's label
        (see :class:`~gesturekit.tracking.handedness.HandednessVote`).
    """

    def __init__(self, max_jump: float = 0.25, handedness_penalty: float = 0.3, keep_for: float = 0.5,
                 lost_gate: float = 1.0, half_life: float = 0.5, margin: float = 0.3) -> None:
        self.max_jump, self.handedness_penalty, self.keep_for = max_jump, handedness_penalty, keep_for
        self.lost_gate, self.half_life, self.margin = lost_gate, half_life, margin
        self._tracks: list[_Track] = []
        self._next_id = 1

    def reset(self) -> None:
        """Forget all tracks (ids keep increasing)."""
        self._tracks = []

    def handedness(self, track_id: int) -> tuple[str, float]:
        """The steady label of a live track and the vote's support for it (0..1)."""
        for tr in self._tracks:
            if tr.id == track_id:
                return tr.vote.label, tr.vote.confidence
        raise KeyError(f"no live track {track_id}")

    def assign(self, keypoints: list[np.ndarray], handedness: list[str], t: float, diag: float,
               scores: list[float] | None = None) -> list[int]:
        """Return one id per detection, in the order given, and add the detections' labels
        (with their ``scores``, default 1) to their tracks' handedness votes."""
        self._tracks = [tr for tr in self._tracks if t - tr.t <= self.keep_for]
        n, m = len(keypoints), len(self._tracks)
        centres = np.array([kp[_PALM].mean(axis=0) for kp in keypoints]).reshape(n, 2)
        ids = [-1] * n
        if n and m:
            last = np.array([tr.centre for tr in self._tracks])  # (m, 2)
            step = np.array([tr.velocity * (t - tr.t) for tr in self._tracks])  # predicted motion since
            rel = centres[:, None] - last[None]  # (n, m, 2)
            along = np.clip((rel * step).sum(-1) / np.maximum((step * step).sum(-1), 1e-9), 0.0, 1.0)
            dist = np.linalg.norm(rel - along[..., None] * step, axis=-1) / diag  # to the predicted path
            lost = np.array([(t - tr.t) / self.keep_for if tr.missed else 0.0 for tr in self._tracks])
            gate = self.max_jump * (1.0 + self.lost_gate * lost)
            mismatch = np.array([[h != tr.vote.label for tr in self._tracks] for h in handedness])
            cost = dist + self.handedness_penalty * mismatch
            # Greedy on sorted costs: optimal enough for a few hands.
            used: set[int] = set()
            for flat in np.argsort(cost, axis=None):
                i, j = divmod(int(flat), m)
                if ids[i] != -1 or j in used or dist[i, j] > gate[j]:
                    continue
                ids[i] = self._tracks[j].id
                used.add(j)
        for tr in self._tracks:
            tr.missed += 1
        by_id = {tr.id: tr for tr in self._tracks}
        for i, c in enumerate(centres):
            score = 1.0 if scores is None else float(scores[i])
            if ids[i] == -1:
                ids[i] = self._next_id
                self._next_id += 1
                vote = HandednessVote(handedness[i], score, t, half_life=self.half_life, margin=self.margin)
                by_id[ids[i]] = _Track(ids[i], c, np.zeros(2), vote, t)
            else:
                tr = by_id[ids[i]]
                dt = t - tr.t
                if dt > 0:
                    tr.velocity = 0.5 * tr.velocity + 0.5 * (c - tr.centre) / dt
                tr.centre, tr.t, tr.missed = c, t, 0
                tr.vote.update(handedness[i], score, t)
        self._tracks = list(by_id.values())
        return ids
