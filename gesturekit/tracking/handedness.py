"""One handedness label per track: a score-weighted vote with hysteresis.

MediaPipe labels each detection on its own, and the label of one hand flickers in blurred or
foreshortened frames. A track keeps a running vote instead. Each frame votes for its label with
the weight of the classifier's confidence (``2 * score - 1``: a 0.5 score says nothing, 1.0 is
certain); older votes fade with a half-life. The *balance* is the weighted share of "right"
minus the share of "left" (-1 .. +1), and the track's label changes only when the balance has
swung past a margin to the other side: a sustained run of opposite labels (about 0.8 s of
confident frames against a long-standing label at the defaults), never a few frames. A young
track, with little evidence yet, is corrected sooner.
"""

from __future__ import annotations

__all__ = ["HandednessVote"]


class HandednessVote:
    """The steady handedness of one track.

    :param label: the first frame's label (``"left"`` or ``"right"``).
    :param score: its confidence (0..1).
    :param t: its time, seconds.
    :param half_life: seconds after which a frame's vote counts half.
    :param margin: how far past even (on the -1 .. +1 balance) the vote must swing to the other
        label before the track's label changes.
    """

    __slots__ = ("label", "t", "half_life", "margin", "_sum", "_weight")

    def __init__(self, label: str, score: float, t: float, *, half_life: float = 0.5, margin: float = 0.3) -> None:
        self.half_life, self.margin = half_life, margin
        self.label = label
        self.t = t
        self._sum = self._weight = 0.0
        self._add(label, score, 1.0)

    def _add(self, label: str, score: float, keep: float) -> None:
        w = min(max(2.0 * float(score) - 1.0, 0.0), 1.0) + 1e-6  # never zero: a lone 0.5 still votes
        self._sum = keep * self._sum + (w if label == "right" else -w)
        self._weight = keep * self._weight + w

    @property
    def balance(self) -> float:
        """Weighted share of recent "right" votes minus that of "left" votes, -1 .. +1."""
        return self._sum / self._weight

    @property
    def confidence(self) -> float:
        """The vote's support for :attr:`label`: the weighted share of recent votes for it (0..1;
        below 0.5 while the vote leans the other way but has not swung past the margin)."""
        b = self.balance if self.label == "right" else -self.balance
        return min(max(0.5 + 0.5 * b, 0.0), 1.0)

    def update(self, label: str, score: float, t: float) -> str:
        """Add one frame's label and return the track's label."""
        self._add(label, score, 0.5 ** (max(t - self.t, 0.0) / self.half_life))
        self.t = t
        b = self.balance
        if self.label == "right" and b < -self.margin:
            self.label = "left"
        elif self.label == "left" and b > self.margin:
            self.label = "right"
        return self.label
