"""Linear models as plain arrays: standardize + softmax, predicted with numpy alone.

A fitted scikit-learn ``Pipeline([StandardScaler, LogisticRegression])`` (multinomial) is fully
described by five arrays. Model files store such a pipeline as ``linear.npz`` (read with
``allow_pickle=False``: numbers and strings only, nothing that can run code), so loading it
needs neither skops nor scikit-learn: a ``gesturekit run`` with the ASL or HaGRID model starts
about a second sooner (importing scikit-learn and SciPy costs that), and predicting one hand is
a matrix product.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np

__all__ = ["LinearPipeline", "linear_from_sklearn"]

_KEYS = ("classes", "mean", "scale", "coef", "intercept")


class LinearPipeline:
    """``softmax(((x - mean) / scale) @ coef.T + intercept)``, columns in ``classes_`` order.

    The same probabilities as the scikit-learn pipeline it was made from (within float rounding).
    """

    def __init__(self, classes: Any, mean: Any, scale: Any, coef: Any, intercept: Any) -> None:
        self.classes_ = np.asarray(classes).astype(str)
        self.mean_ = np.asarray(mean, dtype=np.float64)
        self.scale_ = np.asarray(scale, dtype=np.float64)
        self.coef_ = np.asarray(coef, dtype=np.float64)
        self.intercept_ = np.asarray(intercept, dtype=np.float64)
        c, n = len(self.classes_), len(self.mean_)
        if c < 2 or n < 1:
            raise ValueError(f"a linear model needs 2 or more classes and 1 or more features, got {c} and {n}")
        shapes = {"mean": (self.mean_.shape, (n,)), "scale": (self.scale_.shape, (n,)),
                  "coef": (self.coef_.shape, (c, n)), "intercept": (self.intercept_.shape, (c,))}
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f"{name} has shape {got}, expected {want}")
        for name in ("mean", "scale", "coef", "intercept"):
            if not np.isfinite(getattr(self, name + "_")).all():
                raise ValueError(f"{name} holds NaN or infinite values")
        if (self.scale_ <= 0).any():
            raise ValueError("scale must be positive")
        if len(set(self.classes_.tolist())) != c:
            raise ValueError("classes repeat")

    @property
    def n_features_in_(self) -> int:
        return len(self.mean_)

    def decision_function(self, x: np.ndarray) -> np.ndarray:
        """``(N, C)`` class scores before the softmax."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.mean_):
            raise ValueError(f"expected rows of {len(self.mean_)} features, got an array of shape {x.shape}")
        return ((x - self.mean_) / self.scale_) @ self.coef_.T + self.intercept_

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """``(N, C)`` class probabilities."""
        z = self.decision_function(x)
        z -= z.max(axis=1, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=1, keepdims=True)
        return z

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.classes_[self.decision_function(x).argmax(axis=1)]

    # files ---------------------------------------------------------------------------------------
    def to_bytes(self) -> bytes:
        """The arrays as an ``.npz`` (uncompressed; the model file's zip compresses it)."""
        buf = io.BytesIO()
        np.savez(buf, classes=self.classes_.astype(np.str_), mean=self.mean_, scale=self.scale_, coef=self.coef_,
                 intercept=self.intercept_)
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, blob: bytes) -> LinearPipeline:
        """Read :meth:`to_bytes`' output. Never unpickles; :raises ValueError: on anything else
        (missing or extra arrays, object arrays, wrong shapes, NaN)."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            names = set(z.files)
            if names != set(_KEYS):
                raise ValueError(f"expected the arrays {', '.join(_KEYS)}, found {', '.join(sorted(names)) or 'none'}")
            arrays = {k: z[k] for k in _KEYS}
        if arrays["classes"].dtype.kind != "U":
            raise ValueError("classes must be strings")
        for k in _KEYS[1:]:
            if arrays[k].dtype.kind not in "fi":
                raise ValueError(f"{k} must be numbers, not {arrays[k].dtype}")
        return cls(**arrays)


def linear_from_sklearn(pipeline: Any) -> LinearPipeline | None:
    """The :class:`LinearPipeline` of a fitted ``StandardScaler`` + multinomial
    ``LogisticRegression`` pipeline; ``None`` for any other model (binary and one-vs-rest
    models included: their probabilities are not one softmax)."""
    if isinstance(pipeline, LinearPipeline):
        return pipeline
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 2:
        return None
    scaler, est = steps[0][1], steps[1][1]
    if type(scaler).__name__ != "StandardScaler" or type(est).__name__ != "LogisticRegression":
        return None
    coef = np.asarray(est.coef_, dtype=np.float64)
    if coef.shape[0] != len(est.classes_) or len(est.classes_) < 3:
        return None
    if getattr(est, "multi_class", "auto") == "ovr":
        return None
    n = coef.shape[1]
    mean = scaler.mean_ if scaler.with_mean else np.zeros(n)
    scale = scaler.scale_ if scaler.with_std else np.ones(n)
    return LinearPipeline(est.classes_, mean, scale, coef, est.intercept_)
