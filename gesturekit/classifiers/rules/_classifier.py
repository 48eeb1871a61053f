"""The rule classifier: YAML gesture definitions -> Detections, frame by frame."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from gesturekit._exceptions import ConfigError
from gesturekit.classifiers.rules._evaluator import CompiledLibrary, ConditionReport, Evaluation
from gesturekit.classifiers.rules._schema import GestureDef, check_library, load_definitions
from gesturekit.features import FeatureExtractor, StateThresholds
from gesturekit.values import Detection, Frame, TemporalSpec

__all__ = ["RulesClassifier", "builtin_library_path", "load_library"]


def builtin_library_path() -> Path:
    """The folder of the built-in gesture library (``gesturekit/gestures/*.yaml``, shipped as package data)."""
    return Path(str(resources.files("gesturekit") / "gestures"))


def load_library(paths: Iterable[str | Path] = (), builtin: bool = True) -> list[GestureDef]:
    """The built-in library (``builtin``) plus the definitions in ``paths`` (files or folders),
    validated together (a user file may not reuse a built-in name)."""
    defs = load_definitions([builtin_library_path()], check=False) if builtin else []
    defs += load_definitions(list(paths), check=False)
    check_library(defs)
    return defs


class RulesClassifier:
    """Classifies Frames with YAML gesture definitions.

    Features are computed once per hand per frame and shared by all definitions; the
    definitions are evaluated together, vectorized.

    :param definitions: validated definitions; default: the built-in library.
    :param mirrored: the frames are a mirrored selfie view (defines the performer's left/right).
    :param thresholds: finger-state thresholds.
    """

    def __init__(self, definitions: Iterable[GestureDef] | None = None, mirrored: bool = False,
                 thresholds: StateThresholds = StateThresholds()) -> None:
        self.definitions = list(load_library() if definitions is None else definitions)
        check_library(self.definitions)
        self.extractor = FeatureExtractor(mirrored=mirrored, thresholds=thresholds)
        self.library = CompiledLibrary(self.definitions)
        self.last: Evaluation | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None = None) -> RulesClassifier:
        """Build from a config section: ``{"gestures": [paths...], "builtin": true, "mirrored": false}``."""
        cfg = dict(config or {})
        unknown = set(cfg) - {"gestures", "builtin", "mirrored", "type"}
        if unknown:
            raise ConfigError(f"unknown option(s) {', '.join(sorted(unknown))}; expected gestures, builtin, mirrored",
                              field="classifiers.rules")
        paths = cfg.get("gestures", [])
        if isinstance(paths, (str, Path)):
            paths = [paths]
        if not isinstance(paths, (list, tuple)):
            raise ConfigError("expected a list of files or folders", field="classifiers.rules.gestures")
        builtin, mirrored = cfg.get("builtin", True), cfg.get("mirrored", False)
        for key, value in (("builtin", builtin), ("mirrored", mirrored)):
            if not isinstance(value, bool):
                raise ConfigError(f"expected true or false, got {value!r}", field=f"classifiers.rules.{key}")
        return cls(load_library(paths, builtin=builtin), mirrored=mirrored)

    def reset(self) -> None:
        """Forget all per-track state: the feature extractor's history (finger-state hysteresis,
        palm positions, motion windows, two-hand distances) and the evaluator's condition
        hysteresis. Call it between unrelated inputs (e.g. separate images) so that the result for
        one does not depend on what was classified before."""
        self.extractor.reset()
        self.library.reset()
        self.last = None

    @property
    def names(self) -> tuple[str, ...]:
        """The gesture names this classifier can report."""
        return self.library.names

    def evaluate(self, frame: Frame) -> Evaluation:
        """Compute features and evaluate every definition (the detail behind :meth:`classify`)."""
        feats = self.extractor.extract(frame)
        self.last = self.library.evaluate(feats, self.extractor)
        return self.last

    def classify(self, frame: Frame) -> list[Detection]:
        """Detections of every gesture that holds in ``frame``."""
        ev = self.evaluate(frame)
        return self.detections(ev)

    def detections(self, ev: Evaluation) -> list[Detection]:
        """Turn an :class:`Evaluation` into Detections (with values)."""
        feats, lib = ev.features, self.library
        out: list[Detection] = []
        if len(feats):
            hands_idx, gest_idx = ev.hand_ok.nonzero()
            for j, g in zip(hands_idx.tolist(), gest_idx.tolist(), strict=True):
                d = lib.defs[g]
                if d.hands == "both":
                    continue
                values = {v.name: float(feats.distance(_kp(v.between[0]), _kp(v.between[1]))[j])
                          for v in d.values if v.between}
                out.append(Detection(d.name, float(feats.score[j]), (int(feats.track_ids[j]),), values,
                                     "pulse" if d.kind == "pulse" else "static"))
        for p, res in zip(ev.pairs, ev.pair_ok, strict=True):
            for g, ok in res.items():
                if not ok:
                    continue
                d = lib.defs[g]
                values = {}
                for v in d.values:
                    if v.relation == "change":
                        values[v.name] = float(self.extractor.pair_change(feats, p, d.relation.window)[0]
                                               if d.relation else 0.0)
                    elif v.relation:
                        values[v.name] = float(getattr(p, v.relation))
                    elif v.between:
                        a, b = _kp(v.between[0]), _kp(v.between[1])
                        values[v.name] = float(feats.distance(a, b)[[p.i, p.j]].mean())
                ids = tuple(sorted((int(feats.track_ids[p.i]), int(feats.track_ids[p.j]))))
                score = float(min(feats.score[p.i], feats.score[p.j]))
                out.append(Detection(d.name, score, ids, values, "pulse" if d.kind == "pulse" else "static"))
        return out

    def temporal_specs(self) -> dict[str, TemporalSpec]:
        """Each definition's timing (its ``temporal`` block, or the defaults of its kind)."""
        return {d.name: d.temporal for d in self.definitions}

    def explain(self, frame: Frame) -> list[dict[str, Any]]:
        """Per hand: features and every condition of every gesture with its value (for tuning)."""
        return self.explain_evaluation(self.evaluate(frame))

    def explain_last(self) -> list[dict[str, Any]]:
        """:meth:`explain` for the frame :meth:`classify` saw last (no second evaluation, so the
        per-track history is not advanced twice)."""
        return self.explain_evaluation(self.last) if self.last is not None else []

    def explain_evaluation(self, ev: Evaluation) -> list[dict[str, Any]]:
        """The :meth:`explain` readout of one :class:`Evaluation`."""
        from gesturekit.features import FINGER_NAMES, STATES, nearest_direction

        feats = ev.features
        dets = self.detections(ev)
        out = []
        for j in range(len(feats)):
            names, angles = nearest_direction(feats.direction[j])
            palm, palm_angle = nearest_direction(feats.palm_normal[j])
            tips = {f"thumb_tip-{f}_tip": float(feats.distance(4, k)[j])
                    for f, k in (("index_finger", 8), ("middle_finger", 12), ("ring_finger", 16),
                                 ("pinky_finger", 20))}
            tid = int(feats.track_ids[j])
            conds: list[ConditionReport] = self.library.report(ev, j) + self._pair_report(ev, j)
            out.append({
                "hand": tid,
                "handedness": feats.handedness[j],
                "fingers": {f: {"state": STATES[int(feats.state[j, i])], "curl": round(float(feats.curl[j, i]), 1),
                                "direction": names[i], "direction_off": round(float(angles[i]), 1)}
                            for i, f in enumerate(FINGER_NAMES)},
                "thumb_reach": round(float(feats.thumb_reach[j]), 3),
                "palm_facing": palm[0], "palm_off": round(float(palm_angle), 1),
                "distances": {k: round(v, 3) for k, v in tips.items()},
                "velocity": [round(float(x), 3) for x in feats.velocity[j]],
                "gestures": sorted({d.gesture for d in dets if tid in d.hands}),
                "conditions": [c.__dict__ for c in conds],
            })
        return out

    def _pair_report(self, ev: Evaluation, j: int) -> list[ConditionReport]:
        """The relation conditions of two-hand gestures for the pairs hand ``j`` belongs to."""
        out = []
        feats = ev.features
        for p, res in zip(ev.pairs, ev.pair_ok, strict=True):
            if j not in (p.i, p.j):
                continue
            other = int(feats.track_ids[p.j if j == p.i else p.i])
            for g in res:
                d = self.library.defs[g]
                rel = d.relation
                if rel is None:
                    continue
                if rel.distance is not None:
                    out.append(ConditionReport(d.name, 0, f"distance to hand #{other} {rel.distance.describe()} palm",
                                               f"{p.distance:.2f} palm", res[g]))
                if rel.change is not None:
                    change, dt = self.extractor.pair_change(feats, p, rel.window)
                    out.append(ConditionReport(d.name, 0, f"change of the distance to hand #{other} over "
                                                          f"{rel.window:g}s {rel.change.describe()} palm",
                                               f"{change:+.2f} palm in {dt:.2f}s", res[g]))
        return out


def _kp(name: str) -> int:
    from gesturekit.values import HandLandmark

    return int(HandLandmark[name.upper()])
