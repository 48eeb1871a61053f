"""The learned classifier: a model file applied to every hand of every frame."""

from __future__ import annotations

import os
from collections.abc import Iterable

import numpy as np

from gesturekit.learn.model import NONE, LearnedModel, load_model
from gesturekit.values import Detection, Frame

__all__ = ["LearnedClassifier"]


class LearnedClassifier:
    """Classifies each hand of a Frame with a :class:`~gesturekit.learn.model.LearnedModel`.

    Emits one static :class:`~gesturekit.Detection` per hand whose predicted class is not
    ``none`` and whose probability reaches ``min_score`` (and the model's reject threshold), so
    its gestures go through the temporal engine (start / hold / end, debouncing) like YAML ones.

    :param model: a model, a model file, or a shipped model name (``hagrid``, ``asl``).
    :param prefix: put before every class name (``hagrid_`` makes ``hagrid_like``).
    :param min_score: lowest probability reported (beside the model's own reject threshold).
    :param only: report only these classes (by the model's names, before the prefix).
    """

    def __init__(self, model: LearnedModel | str | os.PathLike, prefix: str = "", min_score: float = 0.0,
                 only: Iterable[str] | None = None) -> None:
        self.model = model if isinstance(model, LearnedModel) else load_model(model)
        self.prefix = prefix
        self.min_score = float(min_score)
        self.only = set(only) if only else None

    @property
    def names(self) -> tuple[str, ...]:
        """The gesture names this classifier can report."""
        return tuple(self.prefix + c for c in self.model.classes if self.only is None or c in self.only)

    def reset(self) -> None:
        """Nothing to forget: every frame is classified on its own."""

    def classify(self, frame: Frame) -> list[Detection]:
        """One Detection per recognised hand."""
        hands = frame.hands
        if not hands:
            return []
        kp = np.array([h.keypoints for h in hands], dtype=np.float64)
        k3 = np.array([h.keypoints3d for h in hands], dtype=np.float64)
        sizes = np.tile(np.array([[frame.width, frame.height]]), (len(hands), 1))
        labels, scores = self.model.predict(kp, k3, [h.handedness for h in hands], sizes)
        out = []
        for hand, label, score in zip(hands, labels.tolist(), scores.tolist(), strict=True):
            if label == NONE or score < self.min_score or (self.only is not None and label not in self.only):
                continue
            out.append(Detection(self.prefix + label, float(min(max(score, 0.0), 1.0)), (int(hand.track_id),)))
        return out
