"""Evaluation: a model file or a training recipe on labelled samples, and the YAML rules beside them.

Figures are on people never seen when the data has groups: :func:`cross_validate` retrains the
recipe once per held-out group (leave-one-group-out, or group folds when there are many groups);
:func:`evaluate_model` reports a trained model file's accuracy on held-out data overall and per group.
Every report is a JSON-able dict (strict JSON: no NaN).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gesturekit._exceptions import InputError
from gesturekit.learn.dataset import SampleArrays
from gesturekit.learn.model import NONE, LearnedModel, train_model

__all__ = ["scores", "evaluate_model", "cross_validate", "evaluate_rules", "rules_predict", "plot_confusion",
           "format_report"]


def _r(x: float) -> float:
    return round(float(x), 4) if math.isfinite(float(x)) else 0.0


def scores(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str] | None = None) -> dict[str, Any]:
    """Accuracy, per-class precision/recall/F1/support and the confusion matrix.

    Rows of the matrix are the true classes (``classes``), columns the predicted ones: the same
    classes, then ``none`` (rejected) and ``other`` (a prediction outside ``classes``).
    Accuracy counts a rejected sample as wrong; ``accepted`` is the share not rejected and
    ``accuracy_accepted`` the accuracy on those.
    """
    y_true = np.asarray(y_true).astype(str)
    y_pred = np.asarray(y_pred).astype(str)
    if y_true.shape != y_pred.shape:
        raise InputError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    cls = [str(c) for c in (classes if classes is not None else np.unique(y_true))]
    cols = [*cls, NONE, "other"]
    col_of = {c: i for i, c in enumerate(cls)}
    ti = np.array([col_of.get(t, -1) for t in y_true.tolist()], dtype=int)
    pi = np.array([col_of.get(p, len(cls) if p == NONE else len(cls) + 1) for p in y_pred.tolist()], dtype=int)
    ok = ti >= 0
    cm = np.zeros((len(cls), len(cols)), dtype=int)
    np.add.at(cm, (ti[ok], pi[ok]), 1)
    n = int(ok.sum())
    correct = int(np.trace(cm[:, :len(cls)]))
    accepted = int(n - cm[:, len(cls)].sum())
    per = {}
    for i, c in enumerate(cls):
        tp, support, predicted = cm[i, i], cm[i].sum(), cm[:, i].sum()
        p = tp / predicted if predicted else 0.0
        r = tp / support if support else 0.0
        per[c] = {"precision": _r(p), "recall": _r(r), "f1": _r(2 * p * r / (p + r) if p + r else 0.0),
                  "support": int(support)}
    return {"samples": n, "correct": correct, "accuracy": _r(correct / n if n else 0.0),
            "accepted": _r(accepted / n if n else 0.0),
            "accuracy_accepted": _r(correct / accepted if accepted else 0.0),
            "per_class": per, "confusion": {"rows": cls, "columns": cols, "matrix": cm.tolist()}}


def _per_group(groups: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    u = np.unique(groups)
    acc = np.array([(y_pred[groups == g] == y_true[groups == g]).mean() for g in u])
    worst = u[np.argsort(acc)[:5]]
    return {"groups": int(len(u)), "mean_group_accuracy": _r(acc.mean() if len(acc) else 0.0),
            "min_group_accuracy": _r(acc.min() if len(acc) else 0.0),
            "worst_groups": {str(g): _r(acc[u == g][0]) for g in worst}}


def evaluate_model(model: LearnedModel, arrays: SampleArrays, *, reject: float | None = None,
                   group_by: bool = True) -> dict[str, Any]:
    """A trained model on held-out ``arrays``: overall and per-class figures (labels the model
    does not know count as wrong, under ``other`` where predicted), and per-group accuracy."""
    pred, _ = model.predict_arrays(arrays, reject)
    classes = sorted(set(model.classes) | set(np.unique(arrays.labels).tolist()))
    out = {"mode": "model", "model_classes": list(model.classes), **scores(arrays.labels, pred, classes)}
    if group_by and len(np.unique(arrays.groups)) > 1:
        out["by_group"] = _per_group(arrays.groups, arrays.labels, pred)
    return out


def cross_validate(arrays: SampleArrays, *, folds: int | None = None, progress: bool = False,
                   **recipe: Any) -> dict[str, Any]:
    """Cross-validate a training recipe (``train_model`` keyword arguments) with group folds:
    every group is held out once and the model retrained without it. Leave-one-group-out for up
    to 20 groups (or ``folds=0``), else ``folds`` (default 5) group folds
    (:class:`sklearn.model_selection.GroupKFold`)."""
    from sklearn.model_selection import GroupKFold, LeaveOneGroupOut

    groups = arrays.groups
    ng = len(np.unique(groups))
    if ng < 2:
        raise InputError("cross-validation needs samples of at least two groups (people/sessions); "
                         "these have one (record with --group, or evaluate a model file instead)")
    if folds == 0 or (folds is None and ng <= 20):
        splitter: Any = LeaveOneGroupOut()
        how = f"leave-one-group-out ({ng} groups)"
    else:
        k = min(int(folds or 5), ng)
        splitter = GroupKFold(n_splits=k)
        how = f"{k} group folds ({ng} groups)"
    splits = list(splitter.split(np.zeros(len(arrays)), arrays.labels, groups))
    pred = np.full(len(arrays), NONE, dtype=object)
    it: Any = splits
    if progress:
        from tqdm import tqdm

        it = tqdm(splits, desc="cv", unit="fold", leave=False, dynamic_ncols=True)
    for tr, te in it:
        train = arrays.subset(tr)
        if len(np.unique(train.labels)) < 2:
            continue
        m = train_model(train, **recipe)
        pred[te] = m.predict_arrays(arrays.subset(te))[0]
    pred = pred.astype(str)
    out = {"mode": "cv", "cv": how, **scores(arrays.labels, pred)}
    out["by_group"] = _per_group(groups, arrays.labels, pred)
    return out


def _frames(arrays: SampleArrays) -> list[Any]:
    from gesturekit.values import Frame, Hand

    frames = []
    for i in range(len(arrays)):
        w, h = (int(v) for v in arrays.sizes[i])
        hand = Hand(track_id=1, handedness="left" if arrays.handedness[i] == "left" else "right",
                    handedness_score=1.0, score=1.0, keypoints=arrays.keypoints[i], keypoints3d=arrays.keypoints3d[i])
        frames.append(Frame(index=0, t=0.0, width=max(w, 1), height=max(h, 1), source=str(arrays.sources[i]),
                            hands=(hand,)))
    return frames


def rules_predict(arrays: SampleArrays, gestures: Sequence[str], classifier: Any = None) -> np.ndarray:
    """The YAML rules' answer for each sample: the one of ``gestures`` detected with the best
    score, ``none`` when no gesture holds, ``other`` when only gestures outside ``gestures`` do.
    Each sample is classified from a clean state (a still image). Samples need 3D keypoints."""
    from gesturekit.classifiers.rules import RulesClassifier

    has3 = np.isfinite(arrays.keypoints3d).all(axis=(1, 2))
    if not has3.all():
        raise InputError(f"{int((~has3).sum())} samples have no 3D keypoints; the rules need them")
    clf = classifier if classifier is not None else RulesClassifier()
    wanted = set(gestures)
    pred = []
    for frame in _frames(arrays):
        clf.reset()
        dets = [d for d in clf.classify(frame) if d.kind == "static"]
        mapped = [d for d in dets if d.gesture in wanted]
        pred.append(max(mapped, key=lambda d: d.score).gesture if mapped else ("other" if dets else NONE))
    return np.array(pred, dtype=object).astype(str)


def evaluate_rules(arrays: SampleArrays, mapping: Mapping[str, str], classifier: Any = None) -> dict[str, Any]:
    """The YAML rules on the samples whose label ``mapping`` names (dataset label -> rule gesture,
    several labels may share a gesture; ``-`` leaves a label out). Figures are per gesture: a
    sample is right when the best-scoring mapped gesture that holds is its label's gesture."""
    mapping = {k: v for k, v in mapping.items() if v and v != "-"}
    if not mapping:
        raise InputError("evaluating rules needs a label map (e.g. --map like=thumbs_up,palm=open_palm)")
    keep = np.isin(arrays.labels, list(mapping))
    if not keep.any():
        raise InputError("no sample has a label the map names (" + ", ".join(mapping) + ")")
    sub = arrays.subset(keep)
    gestures = sorted(set(mapping.values()))
    truth = np.array([mapping[x] for x in sub.labels.tolist()], dtype=object).astype(str)
    pred = rules_predict(sub, gestures, classifier)
    out = {"mode": "rules", "map": dict(mapping), **scores(truth, pred, gestures)}
    if len(np.unique(sub.groups)) > 1:
        out["by_group"] = _per_group(sub.groups, truth, pred)
    return out


def plot_confusion(report: Mapping[str, Any], path: str | os.PathLike, title: str = "") -> Path:
    """Write the report's confusion matrix as a PNG (rows normalized; counts in the cells)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    conf = report["confusion"]
    cm = np.asarray(conf["matrix"], dtype=float)
    cols = list(conf["columns"])
    keep = [j for j, c in enumerate(cols) if j < len(conf["rows"]) or cm[:, j].sum() > 0]
    cm, cols = cm[:, keep], [cols[j] for j in keep]
    norm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    n = max(len(conf["rows"]), len(cols))
    fig, ax = plt.subplots(figsize=(1.6 + 0.42 * n, 1.2 + 0.4 * n), dpi=100)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=8)
    ax.set_yticks(range(len(conf["rows"])), conf["rows"], fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            if cm[i, j]:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=7,
                        color="white" if norm[i, j] > 0.5 else "black")
    ax.set_title(title or f"accuracy {report['accuracy']:.3f} on {report['samples']} samples", fontsize=9)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path


def format_report(report: Mapping[str, Any], write: Callable[[str], Any] = print) -> None:
    """A plain-text summary of a report."""
    head = {"cv": f"cross-validation, {report.get('cv')}", "model": "model on held-out samples",
            "rules": "YAML rules"}.get(str(report.get("mode")), "")
    write(f"{head}: accuracy {report['accuracy']:.4f} ({report['correct']}/{report['samples']}), "
          f"accepted {report['accepted']:.3f}, accuracy on accepted {report['accuracy_accepted']:.4f}")
    g = report.get("by_group")
    if g:
        write(f"  {g['groups']} groups: mean group accuracy {g['mean_group_accuracy']:.4f}, "
              f"worst {g['min_group_accuracy']:.4f}")
    write(f"  {'class':<16} {'precision':>9} {'recall':>7} {'f1':>6} {'n':>6}")
    for c, v in report["per_class"].items():
        write(f"  {c:<16} {v['precision']:>9.3f} {v['recall']:>7.3f} {v['f1']:>6.3f} {v['support']:>6}")
