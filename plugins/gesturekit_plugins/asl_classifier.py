"""The ``asl`` classifier: ASL fingerspelling letters per hand, and the word they spell.

Recognises the 24 static letters of the ASL manual alphabet (A-I, K-Y) on each hand, as gestures
``asl_A`` ... ``asl_Y``, with a trained model (``models/asl_letters.gkm``, made by
``gesturekit train``; see its card and ``docs/asl.md``). J and Z are not supported: they are
motions (a traced J or Z), and the training data has no usable examples of them.

With ``spell`` (the default) it also reports ``asl_word``: letters held for ``hold`` seconds are
appended to a word, a repeated letter needs a release (another or no letter for ``release``
seconds) and the same letter again, and ``pause`` seconds without a letter end the word. The
``asl_word`` detection carries the word so far in its ``text``; the temporal engine sends an
``update`` event whenever the text changes, and ``end`` (with the whole word) after the pause.
One word stream per classifier: each frame contributes its most confident letter (of any hand).

Config section (all optional)::

    classifiers:
      asl:
        type: asl
        model: asl_letters.gkm   # default: the shipped model
        min_score: 0.5           # lowest letter probability reported
        spell: true              # report asl_word
        hold: 0.4                # seconds a letter must be held to count
        release: 0.2             # seconds away before the same letter counts again
        pause: 1.0               # seconds without a letter that end the word

Uses only gesturekit's public API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field, ValidationInfo, field_validator

from gesturekit import Detection, Frame, PluginOptions, hookimpl, options
from gesturekit.learn import LearnedClassifier, LinearPipeline, linear_from_sklearn
from gesturekit.learn.features import block_columns, dist_vert_features, n_features
from gesturekit.settings import validate_options
from gesturekit.values import TemporalSpec
from gesturekit_plugins.asl_spelling import Speller

__all__ = ["ASL_MODEL", "LETTERS", "PREFIX", "WORD", "ASLOptions", "ASLClassifier", "make_asl_classifier"]

#: The shipped letter model.
ASL_MODEL = Path(__file__).resolve().parent / "models" / "asl_letters.gkm"
#: The static letters the shipped model knows.
LETTERS: tuple[str, ...] = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")
PREFIX = "asl_"
WORD = "asl_word"


class ASLOptions(PluginOptions):
    """Options of the ``asl`` classifier."""

    model: str = Field("", description="a letter model file (.gkm; default: the shipped one); a relative file "
                                       "is resolved against the config file's folder")
    min_score: float = Field(0.5, ge=0.0, le=1.0, description="lowest letter probability reported and spelled")
    spell: bool = Field(True, strict=True, description="report asl_word, the word the held letters spell")
    hold: float = Field(0.4, ge=0.0, description="seconds a letter must be held to count")
    release: float = Field(0.2, ge=0.0, description="seconds away before the same letter counts again")
    pause: float = Field(1.0, gt=0.0, description="seconds without a letter that end the word")

    @field_validator("model")
    @classmethod
    def _resolve(cls, v: str, info: ValidationInfo) -> str:
        if not v:
            return v
        base = (info.context or {}).get("base_dir")
        v = os.path.expanduser(v)
        return v if os.path.isabs(v) or not base else os.path.normpath(os.path.join(base, v))


class ASLClassifier:
    """Letters per hand (``asl_A`` ...) and the spelled word (``asl_word``, with ``text``).

    :param model: a model file (default: the shipped :data:`ASL_MODEL`).
    :param min_score: lowest letter probability reported (and spelled).
    :param spell: also report ``asl_word``.
    :param hold: see :class:`~gesturekit_plugins.asl_spelling.Speller`.
    """

    def __init__(self, model: str | os.PathLike | None = None, min_score: float = 0.5, spell: bool = True,
                 hold: float = 0.4, release: float = 0.2, pause: float = 1.0) -> None:
        self.letters = LearnedClassifier(model or ASL_MODEL, prefix=PREFIX, min_score=min_score)
        self.min_score = float(min_score)
        self.spell = spell
        self.speller = Speller(hold, release, pause)
        self._fast = _linear_fast_path(self.letters.model.pipeline, self.letters.model.use_3d)
        self._names = np.array([PREFIX + c for c in self.letters.model.classes])

    def _classify_letters(self, frame: Frame) -> list[Detection]:
        """One Detection per hand whose top letter passes the thresholds (a numpy fast path for a
        standardized linear model: scikit-learn's per-call overhead is ~20x the arithmetic)."""
        if self._fast is None:
            return self.letters.classify(frame)
        hands = frame.hands
        if not hands:
            return []
        model = self.letters.model
        kp = np.array([h.keypoints for h in hands])
        k3 = np.array([h.keypoints3d for h in hands])
        hand = [h.handedness for h in hands]
        linear, dist_vert = self._fast
        if dist_vert:  # the model reads only the dist2 + vert blocks: compute just those
            x = dist_vert_features(kp, k3, hand)
        else:
            x = model.features(kp, k3, hand, None)
        p = linear.predict_proba(x)
        best = p.argmax(axis=1)
        score = p[np.arange(len(p)), best]
        thr = max(model.reject, self.min_score)
        return [Detection(str(self._names[b]), float(min(sc, 1.0)), (int(h.track_id),))
                for h, b, sc in zip(hands, best.tolist(), score.tolist(), strict=True) if sc >= thr]

    @property
    def names(self) -> tuple[str, ...]:
        """The gesture names this classifier can report."""
        return self.letters.names + ((WORD,) if self.spell else ())

    def temporal_specs(self) -> dict[str, TemporalSpec]:
        """``asl_word`` starts at once and ends right after the word ends (the speller does the
        timing); letters use the engine's default."""
        return {WORD: TemporalSpec(min_duration=0.0, hold_interval=0.0, update_interval=0.0, release=0.0)}

    def reset(self) -> None:
        """Forget the word being spelled (a new source)."""
        self.letters.reset()
        self.speller.reset()

    def classify(self, frame: Frame) -> list[Detection]:
        """The letter of each hand, then ``asl_word`` while a word is being spelled."""
        found = self._classify_letters(frame)
        if not self.spell:
            return found
        best = max(found, key=lambda d: d.score, default=None)
        last = self.speller.last_time
        if last is not None and frame.t < last:  # a new source (its clock starts again): a new word
            self.speller.reset()
        state = self.speller.update(frame.t, best.gesture[len(PREFIX):] if best is not None else None)
        if state.word:
            found.append(Detection(WORD, 1.0, (), text=state.word))
        return found


def _linear_fast_path(pipeline: Any, use_3d: bool = True) -> tuple[LinearPipeline, bool] | None:
    """``(linear, dist_vert)`` for a linear model (a
    :class:`~gesturekit.learn.linear.LinearPipeline`, or the StandardScaler + multinomial
    LogisticRegression pipeline it is made from; ``None`` for any other model, which then goes
    through its own ``predict_proba``). ``dist_vert``: every non-zero weight is on the ``dist2``/``vert`` columns (a
    model built with ``--blocks dist2,vert``, see ``scripts/build_asl_model.py``, and ``use_3d``
    off); ``linear`` is then cut to those columns, for
    :func:`~gesturekit.learn.features.dist_vert_features`."""
    linear = linear_from_sklearn(pipeline)
    if linear is None:
        return None
    coef = linear.coef_
    if coef.shape[1] == n_features() and not use_3d:
        cols = block_columns(("dist2", "vert"))
        rest = np.setdiff1d(np.arange(coef.shape[1]), cols)
        if not coef[:, rest].any():
            cut = LinearPipeline(linear.classes_, linear.mean_[cols], linear.scale_[cols],
                                 np.ascontiguousarray(coef[:, cols]), linear.intercept_)
            return cut, True
    return linear, False


@options(ASLOptions)
def make_asl_classifier(config: ASLOptions | Mapping[str, Any] | None = None) -> ASLClassifier:
    """Factory: an :class:`ASLClassifier` from its validated options (or its config section as a dict)."""
    if isinstance(config, Mapping):
        config = {k: v for k, v in config.items() if k != "type"}
    opts = validate_options(ASLOptions, config)
    return ASLClassifier(opts.model or None, min_score=opts.min_score, spell=opts.spell, hold=opts.hold,
                         release=opts.release, pause=opts.pause)


@hookimpl
def gesturekit_register_classifiers() -> dict:
    return {"asl": make_asl_classifier}
