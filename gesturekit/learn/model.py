"""Learned models: training recipe, model files that load without executing code, prediction.

A model file (``*.gkm``) is a zip archive with two members:

- ``card.json``: the model card (strict JSON): format, classes, feature version, estimator,
  training data and its origin, figures, the command that made it;
- the estimator, one of
  - ``linear.npz``: a standardize + multinomial logistic regression pipeline as five plain arrays
    (:mod:`gesturekit.learn.linear`), read with ``allow_pickle=False`` and predicted with numpy:
    loading it imports neither skops nor scikit-learn;
  - ``model.skops``: any other scikit-learn pipeline (scaler + estimator) in skops' format, loaded
    with ``skops.io.loads(..., trusted=ALLOWED_TYPES)``: only the scikit-learn, numpy and scipy
    types of :data:`ALLOWED_TYPES` may appear; a file naming anything else (or no skops file at
    all, e.g. a pickle) is refused with one :class:`~gesturekit.ModelError` line before anything
    is built.

The card is read (and its feature version checked) before the estimator is loaded.
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import time
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from gesturekit._exceptions import InputError, ModelError
from gesturekit.learn.augment import Augment, augment
from gesturekit.learn.dataset import SampleArrays

__all__ = ["MODEL_FORMAT", "NONE", "ESTIMATORS", "ALLOWED_TYPES", "LearnedModel", "load_model", "train_model",
           "make_pipeline", "features_of", "shipped_models", "resolve_model_path", "map_labels", "read_card",
           "parse_label_map"]

#: Version of the model file layout.
MODEL_FORMAT = 1
#: The label :meth:`LearnedModel.predict` gives below the model's reject threshold.
NONE = "none"
CARD, PIPELINE, LINEAR = "card.json", "model.skops", "linear.npz"
#: Estimators ``gesturekit train --estimator`` knows.
ESTIMATORS: tuple[str, ...] = ("svc", "logreg", "mlp", "forest")

#: The only types a model file's pipeline may contain (skops' ``trusted`` list).
ALLOWED_TYPES: tuple[str, ...] = (
    "sklearn.pipeline.Pipeline",
    "sklearn.preprocessing._data.StandardScaler",
    "sklearn.svm._classes.SVC",
    "sklearn.linear_model._logistic.LogisticRegression",
    "sklearn.neural_network._multilayer_perceptron.MLPClassifier",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.ensemble._forest.ExtraTreesClassifier",
    "sklearn.tree._classes.ExtraTreeClassifier",
    "sklearn.tree._tree.Tree",
    "sklearn.calibration.CalibratedClassifierCV",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.calibration._SigmoidCalibration",
    "sklearn.utils._bunch.Bunch",
    "numpy.dtype",
    "numpy.ndarray",
    "numpy.float64",
    "numpy.int64",
    "numpy.int32",
    "numpy.str_",
    "numpy.random.mtrand.RandomState",
    "numpy.random._mt19937.MT19937",
    "builtins.slice",
    "builtins.tuple",
    "builtins.list",
    "builtins.dict",
    "builtins.str",
    "builtins.int",
    "builtins.float",
    "builtins.bool",
    "builtins.NoneType",
)


def features_of(keypoints: np.ndarray, keypoints3d: np.ndarray | None, handedness: Any,
                sizes: np.ndarray | None, use_3d: bool = True) -> np.ndarray:
    """The shared hand features (:func:`gesturekit.learn.features.hand_features`)."""
    from gesturekit.learn.features import hand_features

    return hand_features(keypoints, keypoints3d, handedness, sizes, use_3d=use_3d)


def _feature_version() -> str:
    from gesturekit.learn.features import FEATURE_VERSION

    return str(FEATURE_VERSION)


def make_pipeline(estimator: str = "svc", seed: int = 0, **params: Any) -> Any:
    """A scikit-learn pipeline (standardize, then ``estimator``) that gives probabilities.

    ``svc``: RBF support vectors, probabilities calibrated by Platt scaling on 3 folds; ``logreg``:
    multinomial logistic regression; ``mlp``: a small neural network; ``forest``: extremely
    randomized trees. ``params`` override the estimator's own parameters.
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.ensemble import ExtraTreesClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    if estimator == "svc":
        svc = SVC(**{"C": 10.0, "gamma": "scale", "class_weight": "balanced", "random_state": seed, **params})
        est = CalibratedClassifierCV(svc, method="sigmoid", cv=3, ensemble=False)
    elif estimator == "logreg":
        est = LogisticRegression(**{"C": 1.0, "max_iter": 3000, "class_weight": "balanced", **params})
    elif estimator == "mlp":
        est = MLPClassifier(**{"hidden_layer_sizes": (128,), "alpha": 1e-3, "max_iter": 600, "early_stopping": False,
                               "random_state": seed, **params})
    elif estimator == "forest":
        est = ExtraTreesClassifier(**{"n_estimators": 300, "class_weight": "balanced", "random_state": seed,
                                      "n_jobs": 1, **params})
    else:
        raise InputError(f"unknown estimator {estimator!r}; known: {', '.join(ESTIMATORS)}")
    return Pipeline([("scale", StandardScaler()), ("clf", est)])


def parse_label_map(items: Sequence[str] | str | None) -> dict[str, str]:
    """``["like=thumbs_up", "palm=open_palm,fist=fist"]`` -> ``{"like": "thumbs_up", ...}``."""
    if not items:
        return {}
    if isinstance(items, str):
        items = [items]
    out: dict[str, str] = {}
    for item in items:
        for part in str(item).split(","):
            if not part.strip():
                continue
            a, sep, b = part.partition("=")
            if not sep or not a.strip() or not b.strip():
                raise InputError(f"label map: expected FROM=TO pairs, got {part!r}")
            out[a.strip()] = b.strip()
    return out


def map_labels(arrays: SampleArrays, mapping: Mapping[str, str], keep_unmapped: bool = True) -> SampleArrays:
    """Rename labels by ``mapping`` (a value of ``""`` or ``-`` drops the label); without
    ``keep_unmapped`` rows whose label is not in ``mapping`` are dropped too."""
    if not mapping:
        return arrays
    new = np.array([mapping.get(x, x if keep_unmapped else "") for x in arrays.labels.tolist()], dtype=object)
    new = np.where(new == "-", "", new).astype(str)
    keep = new != ""
    return replace(arrays, labels=new).subset(keep)


@dataclass
class LearnedModel:
    """A trained classifier of single hands (a scikit-learn pipeline over the shared hand features).

    :param pipeline: fitted pipeline with ``predict_proba``.
    :param card: the model card (JSON-able; see :func:`train_model`).
    """

    pipeline: Any
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> tuple[str, ...]:
        """The labels the model tells apart (besides ``none``)."""
        return tuple(str(c) for c in self.pipeline.classes_)

    @property
    def reject(self) -> float:
        """Below this top probability :meth:`predict` says ``none``."""
        return float(self.card.get("reject", 0.0))

    @property
    def use_3d(self) -> bool:
        return bool(self.card.get("use_3d", True))

    def features(self, keypoints: np.ndarray, keypoints3d: np.ndarray | None, handedness: Any,
                 sizes: np.ndarray | None = None) -> np.ndarray:
        """The feature rows this model reads."""
        return features_of(keypoints, keypoints3d, handedness, sizes, use_3d=self.use_3d)

    def predict_proba(self, keypoints: np.ndarray, keypoints3d: np.ndarray | None, handedness: Any,
                      sizes: np.ndarray | None = None) -> np.ndarray:
        """``(N, C)`` class probabilities, columns in :attr:`classes` order."""
        x = self.features(keypoints, keypoints3d, handedness, sizes)
        if len(x) == 0:
            return np.zeros((0, len(self.classes)))
        return np.asarray(self.pipeline.predict_proba(x), dtype=np.float64)

    def predict(self, keypoints: np.ndarray, keypoints3d: np.ndarray | None, handedness: Any,
                sizes: np.ndarray | None = None, reject: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(labels (N,) str, scores (N,) float)``: the most probable class and its probability;
        ``none`` where that probability is below ``reject`` (default: the model's own)."""
        p = self.predict_proba(keypoints, keypoints3d, handedness, sizes)
        thr = self.reject if reject is None else float(reject)
        if len(p) == 0:
            return np.zeros(0, dtype=str), np.zeros(0)
        best = p.argmax(axis=1)
        score = p[np.arange(len(p)), best]
        labels = np.array(self.classes, dtype=object)[best].astype(str)
        return np.where(score >= thr, labels, NONE).astype(str), score

    def predict_arrays(self, arrays: SampleArrays, reject: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`predict` on the rows of a dataset."""
        return self.predict(arrays.keypoints, arrays.keypoints3d, arrays.handedness, arrays.sizes, reject)

    # files -------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write the model file (zip: ``card.json`` + ``linear.npz`` for a linear pipeline, else
        ``model.skops``) atomically."""
        from gesturekit.learn.linear import linear_from_sklearn

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        card = {**self.card, "format": MODEL_FORMAT, "classes": list(self.classes)}
        linear = linear_from_sklearn(self.pipeline)
        if linear is not None:
            member, blob = LINEAR, linear.to_bytes()
        else:
            import skops.io as sio

            member, blob = PIPELINE, sio.dumps(self.pipeline)
        tmp = path.with_name(path.name + ".tmp")
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
            z.writestr(CARD, json.dumps(card, indent=2, allow_nan=False) + "\n")
            z.writestr(member, blob)
        os.replace(tmp, path)
        self.card = card
        return path


def shipped_models() -> dict[str, Path]:
    """Models that ship with gesturekit (``gesturekit/learn/models/<name>.gkm``), by name."""
    folder = Path(str(resources.files("gesturekit.learn") / "models"))
    return {p.stem: p for p in sorted(folder.glob("*.gkm"))} if folder.is_dir() else {}


def resolve_model_path(model: str | os.PathLike) -> Path:
    """A model file path, or the file of a shipped model name (``hagrid``, ``asl``)."""
    text = os.fspath(model)
    p = Path(text).expanduser()
    if p.exists():
        return p
    shipped = shipped_models()
    if text in shipped:
        return shipped[text]
    raise ModelError(f"{text}: no such model file and no shipped model of that name "
                     f"(shipped: {', '.join(shipped) or 'none'})")


def read_card(path: str | os.PathLike) -> dict[str, Any]:
    """The model card of a model file, without loading the estimator."""
    with _open_zip(Path(path)) as z:
        return _card(z, Path(path))


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError:
        raise ModelError(f"{path}: no such model file") from None
    except (zipfile.BadZipFile, OSError) as e:
        raise ModelError(f"{path}: not a gesturekit model file ({e})") from None


def _card(z: zipfile.ZipFile, path: Path) -> dict[str, Any]:
    names = set(z.namelist())
    if CARD not in names or (PIPELINE in names) == (LINEAR in names):
        raise ModelError(f"{path}: not a gesturekit model file (expected {CARD} and one of {LINEAR} or "
                         f"{PIPELINE} inside)")
    try:
        card = json.loads(z.read(CARD).decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelError(f"{path}: unreadable model card ({e})") from None
    if not isinstance(card, dict):
        raise ModelError(f"{path}: the model card is not a JSON object")
    if card.get("format") != MODEL_FORMAT:
        raise ModelError(f"{path}: model format {card.get('format')!r}, this gesturekit reads {MODEL_FORMAT}")
    return card


def _schema_types(blob: bytes) -> set[str]:
    """Every ``module.class`` a skops file's ``schema.json`` names."""
    import io

    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        schema = json.loads(z.read("schema.json").decode("utf-8"))
    out: set[str] = set()
    stack: list[Any] = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                out.add(f"{node['__module__']}.{node['__class__']}")
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return out


def load_model(path: str | os.PathLike, *, check_features: bool = True) -> LearnedModel:
    """Load a model file (or a shipped model by name) without executing code from it.

    :raises ModelError: (one line) when the file is missing or not a model file, was made with
        another feature version, or names a type outside :data:`ALLOWED_TYPES`.
    """
    path = resolve_model_path(path)
    with _open_zip(path) as z:
        card = _card(z, path)
        member = LINEAR if LINEAR in z.namelist() else PIPELINE
        blob = z.read(member)
    if check_features:
        have = _feature_version()
        if card.get("feature_version") != have:
            raise ModelError(f"{path}: made with feature version {card.get('feature_version')!r}, this gesturekit "
                             f"computes {have!r}; retrain it (the command is in its card)")
    pipe = _load_linear(blob, path) if member == LINEAR else _load_skops(blob, path)
    classes = [str(c) for c in getattr(pipe, "classes_", [])]
    if card.get("classes") and list(card["classes"]) != classes:
        raise ModelError(f"{path}: the card's classes do not match the model's")
    return LearnedModel(pipe, card)


def _load_linear(blob: bytes, path: Path) -> Any:
    from gesturekit.learn.linear import LinearPipeline

    try:
        return LinearPipeline.from_bytes(blob)
    except Exception as e:  # noqa: BLE001 - numpy raises many kinds on a corrupt file
        raise ModelError(f"{path}: {LINEAR} is not a valid linear model ({type(e).__name__}: {e})") from None


def _load_skops(blob: bytes, path: Path) -> Any:
    import skops.io as sio

    try:
        named = set(sio.get_untrusted_types(data=blob)) | _schema_types(blob)
    except Exception as e:  # noqa: BLE001 - skops raises many kinds on a corrupt file
        raise ModelError(f"{path}: {PIPELINE} is not a skops file ({type(e).__name__}: {e})") from None
    # every type the schema names must be on the allow-list (skops alone would also trust its
    # own default set of scikit-learn types)
    untrusted = sorted(named - set(ALLOWED_TYPES))
    if untrusted:
        raise ModelError(f"{path}: refusing to load: it names types outside the allow-list: {', '.join(untrusted)}")
    try:
        pipe = sio.loads(blob, trusted=list(ALLOWED_TYPES))
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"{path}: cannot load {PIPELINE} ({type(e).__name__}: {e})") from None
    if type(pipe).__name__ != "Pipeline" or not hasattr(pipe, "predict_proba"):
        raise ModelError(f"{path}: {PIPELINE} holds a {type(pipe).__name__}, expected a scikit-learn Pipeline")
    return pipe


def _class_counts(labels: np.ndarray) -> dict[str, int]:
    u, c = np.unique(labels, return_counts=True)
    return {str(a): int(b) for a, b in zip(u, c, strict=True)}


def train_model(arrays: SampleArrays, *, estimator: str = "svc", reject: float = 0.5,
                augmentation: Augment | None = None, synthetic_signers: int = 0, seed: int = 0,
                use_3d: bool = True, params: Mapping[str, Any] | None = None, progress: bool = False,
                data: Sequence[Mapping[str, Any]] = (), command: str | None = None,
                notes: str = "") -> LearnedModel:
    """Fit a model on the samples of ``arrays`` (after optional synthetic signers and augmentation).

    :param reject: top probability below which :meth:`LearnedModel.predict` says ``none``.
    :param synthetic_signers: add ``N`` synthetic signers
        (:func:`gesturekit.learn.synth.synthetic_signers`) before augmenting.
    :param data: what the samples came from, for the card (``[{"path":..., "origins": [...]}]``).
    :param command: the command line that made the model (default: this process's).
    """
    if len(arrays) == 0:
        raise InputError("no samples to train on")
    labels = np.unique(arrays.labels)
    if len(labels) < 2:
        raise InputError(f"need at least two classes to train, got {', '.join(labels) or 'none'}")
    if not 0.0 <= reject <= 1.0:
        raise InputError(f"reject must be within 0..1, got {reject}")
    aug = augmentation if augmentation is not None else Augment()
    steps = ["synthetic signers", "augment", "features", "fit"]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=len(steps), desc="train", unit="step", leave=False, dynamic_ncols=True)

    def step(name: str) -> None:
        if bar is not None:
            bar.set_postfix_str(name)
            bar.update(1)

    t0 = time.perf_counter()
    train = arrays
    if synthetic_signers:
        from gesturekit.learn import synth  # the ASL work's synthetic signers

        train = SampleArrays.concat([train, synth.synthetic_signers(arrays, int(synthetic_signers), seed)])
    step("synthetic signers")
    train = augment(train, aug, seed=seed)
    step("augment")
    x = features_of(train.keypoints, train.keypoints3d, train.handedness, train.sizes, use_3d=use_3d)
    step("features")
    pipe = make_pipeline(estimator, seed, **dict(params or {}))
    pipe.fit(x, train.labels)
    step("fit")
    if bar is not None:
        bar.close()
    card = {
        "format": MODEL_FORMAT,
        "kind": "gesturekit learned hand classifier",
        "classes": [str(c) for c in pipe.classes_],
        "feature_version": _feature_version(),
        "use_3d": bool(use_3d),
        "estimator": estimator,
        "params": {k: v for k, v in (params or {}).items() if isinstance(v, (int, float, str, bool))},
        "reject": float(reject),
        "augment": aug.to_dict(),
        "synthetic_signers": int(synthetic_signers),
        "seed": int(seed),
        "training": {"samples": len(arrays), "after_augmentation": len(train),
                     "groups": int(len(np.unique(arrays.groups))), "per_class": _class_counts(arrays.labels),
                     "data": [dict(d) for d in data], "seconds": round(time.perf_counter() - t0, 2)},
        "command": command if command is not None else shlex.join(["gesturekit", *sys.argv[1:]]),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "figures": {},
        "notes": notes,
    }
    return LearnedModel(pipe, card)

