"""Evaluating gesture definitions on hand features, vectorized over hands and conditions.

The definitions are compiled once into arrays: a table of allowed finger states per pose, and
one row per direction, distance and angle condition ("atoms"). Per frame, every atom of every
gesture is evaluated for all hands in a few numpy operations, then reduced to poses and gestures
with incidence matrices. Per-track hysteresis state is kept per atom.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gesturekit.classifiers.rules._schema import GestureDef, Motion, Threshold
from gesturekit.features import DIRECTIONS, FINGER_NAMES, STATES, FeatureExtractor, HandFeatures, Movement, PairFeatures
from gesturekit.values import KEYPOINT_NAMES

__all__ = ["CompiledLibrary", "Evaluation", "ConditionReport"]

_FI = {f: i for i, f in enumerate(FINGER_NAMES)}
_SI = {s: i for i, s in enumerate(STATES)}
_DIR_NAMES = tuple(DIRECTIONS)
_DIR_MATRIX = np.stack([DIRECTIONS[n] for n in _DIR_NAMES])
_PLANE_MATRIX = np.ascontiguousarray(_DIR_MATRIX[:, :2].T)  # (2, 6): the directions' image-plane parts
_KI = {k: i for i, k in enumerate(KEYPOINT_NAMES)}
_FIVE = np.arange(5)
_NO_THRESHOLD = Threshold()
_PLANE_UNITS = {"up": (0.0, 1.0), "down": (0.0, -1.0), "left": (-1.0, 0.0), "right": (1.0, 0.0)}


@dataclass(frozen=True)
class ConditionReport:
    """One condition of one gesture on one hand (for ``gestures explain``)."""

    gesture: str
    pose: int
    condition: str
    value: str
    holds: bool


@dataclass
class Evaluation:
    """Per-frame results: which one-hand gestures hold per hand, which two-hand ones per pair."""

    features: HandFeatures
    hand_ok: np.ndarray  # (N, G) after motion and unless
    pose_ok: np.ndarray  # (N, P)
    atoms: np.ndarray  # (N, A) bool
    atom_values: np.ndarray  # (N, A) measured values (directions: cosine to the nearest allowed direction)
    finger_ok: np.ndarray  # (N, P)
    pairs: list[PairFeatures]
    pair_ok: list[dict[int, bool]]
    motions: dict[tuple[int, int], Movement]  # (hand, window in ms) -> the hand's movement


def _pair_atoms(poses: Sequence[Any], attr: str, index: Mapping[str, int], label: str,
                unit: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int], list[str]]:
    """Index arrays, thresholds, owning pose and description of every ``attr`` condition
    (``distances`` or ``angles``) of ``poses``."""
    a, b, thr, pose, desc = [], [], [], [], []
    for pi, p in enumerate(poses):
        for c in getattr(p, attr):
            a.append(index[c.a])
            b.append(index[c.b])
            thr.append(c.threshold)
            pose.append(pi)
            desc.append(f"{label} {c.a}-{c.b} {c.threshold.describe()} {unit}")
    return np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), _threshold_arrays(thr), pose, desc


def _threshold_arrays(ths: Sequence[Threshold]) -> np.ndarray:
    """``(4, A)``: below_enter, below_exit, above_enter, above_exit."""
    if not ths:
        return np.zeros((4, 0))
    return np.array([[t.below_enter, t.below_exit, t.above_enter, t.above_exit] for t in ths]).T


def _passes(values: np.ndarray, thr: np.ndarray, prev: np.ndarray) -> np.ndarray:
    below = np.where(prev, thr[1], thr[0])
    above = np.where(prev, thr[3], thr[2])
    return (values < below) & (values > above)


def _scalar_passes(value: float, t: Threshold, prev: bool) -> bool:
    below = t.below_exit if prev else t.below_enter
    above = t.above_exit if prev else t.above_enter
    return above < value < below


class CompiledLibrary:
    """A set of gesture definitions compiled for fast evaluation.

    :param defs: validated definitions (see :func:`~gesturekit.rules.load_definitions`).
    """

    def __init__(self, defs: Sequence[GestureDef]) -> None:
        self.defs = tuple(defs)
        self.names = tuple(d.name for d in self.defs)
        self.index = {n: i for i, n in enumerate(self.names)}
        G = len(self.defs)
        pose_gesture: list[int] = []
        poses = []
        for g, d in enumerate(self.defs):
            for p in d.poses:
                poses.append(p)
                pose_gesture.append(g)
        P = len(poses)
        self.pose_gesture = np.array(pose_gesture, dtype=np.int64)
        self.pose_number = [sum(1 for q in pose_gesture[:i] if q == pg) for i, pg in enumerate(pose_gesture)]
        allowed = np.ones((P, 5, 3), dtype=bool)
        for pi, p in enumerate(poses):
            for f, states in p.fingers.items():
                allowed[pi, _FI[f]] = False
                allowed[pi, _FI[f], [_SI[s] for s in states]] = True
        self.allowed = allowed
        self.poses = poses
        # direction atoms (source 0-4: fingers, 6: palm normal)
        dsrc, dmask, dcos, dpose, ddesc, dplane = [], [], [], [], [], []
        for pi, p in enumerate(poses):
            for c in p.directions:
                dsrc.append(6 if c.finger == "palm" else _FI[c.finger])  # features' vectors: 5 = palm up, 6 = normal
                dmask.append([n in c.directions for n in _DIR_NAMES])
                dcos.append((math.cos(math.radians(c.within)), math.cos(math.radians(c.exit))))
                dpose.append(pi)
                dplane.append(c.plane == "image")
                ddesc.append(f"{c.finger} points {'|'.join(c.directions)} within {c.within:g} deg"
                             + (" in the image" if c.plane == "image" else ""))
        self.dir_src = np.array(dsrc, dtype=np.int64)
        self.dir_image = np.flatnonzero(np.array(dplane, dtype=bool))  # atoms measured in the image plane
        self._dir_image_src = self.dir_src[self.dir_image]
        self.dir_mask = np.array(dmask, dtype=bool).reshape(-1, 6)
        self.dir_cos = np.array(dcos).reshape(-1, 2).T  # (2, Ad) enter, exit
        # distance and angle atoms: a pair of named points and a threshold each
        self.dist_a, self.dist_b, self.dist_thr, dpose2, ddesc2 = _pair_atoms(poses, "distances", _KI, "distance",
                                                                              "palm")
        self.ang_a, self.ang_b, self.ang_thr, apose, adesc = _pair_atoms(poses, "angles", _FI, "angle", "deg")
        atom_pose = np.array(dpose + dpose2 + apose, dtype=np.int64)
        self.atom_desc = ddesc + ddesc2 + adesc
        self.atom_pose = atom_pose
        self.n_dir, self.n_dist, self.n_ang = len(dpose), len(dpose2), len(apose)
        A = len(atom_pose)
        inc = np.zeros((A, P))
        inc[np.arange(A), atom_pose] = 1.0
        self.atom_incidence = inc
        gp = np.zeros((P, G))
        gp[np.arange(P), self.pose_gesture] = 1.0
        self.pose_incidence = gp
        self.one_hand = np.array([d.hands != "both" for d in self.defs], dtype=bool)
        self.hand_filter = {
            "left": np.array([d.hands in ("any", "left") for d in self.defs], dtype=bool),
            "right": np.array([d.hands in ("any", "right") for d in self.defs], dtype=bool),
        }
        self._hand_mask = {h: m | ~self.one_hand for h, m in self.hand_filter.items()}
        self.static_one = np.flatnonzero(self.one_hand & np.array([d.motion is None for d in self.defs]))
        self.motion_idx = [g for g, d in enumerate(self.defs) if d.motion is not None]
        self.pair_idx = [g for g, d in enumerate(self.defs) if d.hands == "both"]
        self.unless_order = self._topological()
        self._prev_atoms: dict[int, np.ndarray] = {}
        self._prev_pair: dict[tuple[int, int, int], bool] = {}
        # motion gestures: when each track last showed the gesture's pose, by (track, motion gesture)
        self._posed_at: dict[tuple[int, int], float] = {}
        # precomputed for evaluate()
        self._no_atoms = np.zeros(A, dtype=bool)
        self.scalar_thr = np.concatenate([self.dist_thr, self.ang_thr], axis=1)
        self._hand_rows = np.stack([self._hand_mask["right"], self._hand_mask["left"]])  # by handedness == "left"
        self.motion_idx_arr = np.array(self.motion_idx, dtype=np.int64)
        self._motion_ms = [int(round(self.defs[g].motion.window * 1000)) for g in self.motion_idx]  # type: ignore
        self._unless = [(g, np.array([self.index[u] for u in self.defs[g].unless], dtype=np.int64))
                        for g in self.unless_order]

    def _topological(self) -> list[int]:
        order: list[int] = []
        done: set[int] = set()

        def visit(g: int) -> None:
            if g in done:
                return
            done.add(g)
            for u in self.defs[g].unless:
                visit(self.index[u])
            order.append(g)

        for g in range(len(self.defs)):
            visit(g)
        return [g for g in order if self.defs[g].unless]

    def reset(self) -> None:
        """Forget hysteresis state."""
        self._prev_atoms.clear()
        self._prev_pair.clear()
        self._posed_at.clear()

    def evaluate(self, feats: HandFeatures, extractor: FeatureExtractor | None = None) -> Evaluation:
        """Evaluate every definition on ``feats`` (updates hysteresis and motion state).

        Per-track state is kept only for the tracks (and pairs) present in ``feats``: a track that
        leaves the frame is forgotten, as :class:`~gesturekit.features.FeatureExtractor` forgets it.
        """
        N = len(feats)
        A = len(self.atom_pose)
        ids = feats.track_ids.tolist()
        if N == 0:
            self._prev_atoms.clear()
            self._prev_pair.clear()
            z = np.zeros((0, A))
            return Evaluation(feats, np.zeros((0, len(self.defs)), bool), np.zeros((0, len(self.poses)), bool),
                              z.astype(bool), z, np.zeros((0, len(self.poses)), bool), [], [], {})
        get = self._prev_atoms.get
        prev = np.array([get(t, self._no_atoms) for t in ids])
        values = np.empty((N, A))
        atoms = np.empty((N, A), dtype=bool)
        nd, ns = self.n_dir, self.n_dist
        if nd:
            vecs = feats.vectors
            if vecs is None:
                vecs = np.concatenate([feats.direction, feats.palm_up[:, None], feats.palm_normal[:, None]], axis=1)
            cos = vecs @ _DIR_MATRIX.T  # (N, 7 sources, 6 directions)
            cos = cos[:, self.dir_src]  # (N, Ad, 6)
            if self.dir_image.size:  # these atoms' vectors with the depth dropped (image plane)
                flat = vecs[:, self._dir_image_src, :2]
                norm = np.maximum(np.sqrt((flat * flat).sum(-1)), 1e-9)[:, :, None]
                cos[:, self.dir_image] = (flat @ _PLANE_MATRIX) / norm
            best = np.where(self.dir_mask, cos, -2.0).max(-1)  # (N, Ad)
            values[:, :nd] = best  # the cosine; report() turns it into degrees
            atoms[:, :nd] = best >= np.where(prev[:, :nd], self.dir_cos[1], self.dir_cos[0])
        if A > nd:  # distances and angles: one threshold test with hysteresis
            if ns:
                d = feats.points[:, self.dist_a] - feats.points[:, self.dist_b]
                values[:, nd:nd + ns] = np.sqrt((d * d).sum(-1))
            if self.n_ang:
                ca = (feats.direction[:, self.ang_a] * feats.direction[:, self.ang_b]).sum(-1)
                values[:, nd + ns:] = np.degrees(np.arccos(np.clip(ca, -1.0, 1.0)))
            atoms[:, nd:] = _passes(values[:, nd:], self.scalar_thr, prev[:, nd:])
        self._prev_atoms = dict(zip(ids, atoms, strict=True))  # only the tracks of this frame
        finger_ok = self.allowed[:, _FIVE, feats.state].all(-1).T
        pose_ok = finger_ok & ((~atoms).astype(np.float64) @ self.atom_incidence < 0.5)
        pose_part = pose_ok.astype(np.float64) @ self.pose_incidence > 0.5  # (N, G): the pose part
        gest = pose_part & self._hand_rows[[int(h == "left") for h in feats.handedness]]
        # motion (dynamic gestures): where the pose held at some frame of the motion's window
        motions: dict[tuple[int, int], Movement] = {}
        fired: set[int] = set()
        if self.motion_idx:
            mi = self.motion_idx_arr
            for j, c in zip(*np.nonzero(self._posed_within(gest[:, mi], ids, feats.t)), strict=True):
                g = self.motion_idx[c]
                m = self.defs[g].motion
                assert m is not None
                key = (int(j), self._motion_ms[c])
                mv = motions.get(key)
                if mv is None:
                    mv = motions[key] = feats.movement(int(j), m.window)
                ok = self._motion_holds(m, mv)
                gest[j, g] = ok
                if ok:
                    fired.add(int(j))
        # two-hand gestures
        pairs = extractor.pairs(feats) if (extractor is not None and self.pair_idx and N >= 2) else []
        pair_ok: list[dict[int, bool]] = []
        prev_pair, self._prev_pair = self._prev_pair, {}  # only the pairs of this frame are kept
        for p in pairs:
            res: dict[int, bool] = {}
            key0 = (ids[p.i], ids[p.j])
            for g in self.pair_idx:
                ok = bool(pose_part[p.i, g] and pose_part[p.j, g])
                rel = self.defs[g].relation
                pkey = (*key0, g)
                if ok and rel is not None:
                    was = prev_pair.get(pkey, False)
                    if rel.distance is not None:
                        ok = _scalar_passes(p.distance, rel.distance, was)
                    if ok and rel.change is not None:
                        ch, dt = extractor.pair_change(feats, p, rel.window) if extractor else (0.0, 0.0)
                        ok = dt > 0 and _scalar_passes(ch, rel.change, was)
                if ok:
                    self._prev_pair[pkey] = True
                res[g] = ok
            pair_ok.append(res)
        # unless: a gesture does not hold where one it names holds (same hand / same pair)
        for g, blockers in self._unless:
            if self.one_hand[g]:
                gest[:, g] &= ~gest[:, blockers].any(axis=1)
            else:
                for res in pair_ok:
                    res[g] = res[g] and not any(res.get(b, False) for b in blockers.tolist())
        if extractor is not None:
            for j in fired:
                if gest[j, self.motion_idx].any():
                    extractor.reset_motion(ids[j], feats.t)
        return Evaluation(feats, gest, pose_ok, atoms, values, finger_ok, pairs, pair_ok, motions)

    def _posed_within(self, posed_now: np.ndarray, ids: list[int], t: float) -> np.ndarray:
        """``(N, M)``: whether each hand showed each motion gesture's pose within the gesture's
        window, this frame included: a sweep blurs the hand, and a swipe may start or end in
        another shape (a relaxed hand, a finger flicked toward the camera), so the pose needs to
        be seen in one frame of the window, not in its last."""
        posed_at = self._posed_at
        if posed_at and t < max(posed_at.values()):  # the clock went back: a new source
            posed_at.clear()
        for j, c in zip(*np.nonzero(posed_now), strict=True):
            posed_at[(ids[j], int(c))] = t
        longest = max(self._motion_ms) / 1000.0
        for key in [k for k, seen in posed_at.items() if t - seen > longest]:
            del posed_at[key]
        out = posed_now.copy()
        for j, tid in enumerate(ids):
            for c, ms in enumerate(self._motion_ms):
                seen = posed_at.get((tid, c))
                if seen is not None and t - seen <= ms / 1000.0 + 1e-6:
                    out[j, c] = True
        return out

    @staticmethod
    def _motion_holds(m: Motion, mv: Movement) -> bool:
        dt = mv.dt
        if dt <= 0:
            return False
        dx, dy = float(mv.displacement[0]), float(mv.displacement[1])
        dist = math.hypot(dx, dy)
        if not _scalar_passes(dist, m.distance, False) or not _scalar_passes(dist / dt, m.speed, False):
            return False
        if m.direction is not None:
            ux, uy = _PLANE_UNITS[m.direction]
            if (dx * ux + dy * uy) < math.cos(math.radians(m.within)) * max(dist, 1e-9):
                return False
        if m.distance_frame != _NO_THRESHOLD:
            fx, fy = float(mv.displacement_frame[0]), float(mv.displacement_frame[1])
            if not _scalar_passes(math.hypot(fx, fy), m.distance_frame, False):
                return False
        if m.has_duration:
            duration = mv.duration(_PLANE_UNITS[m.direction] if m.direction is not None else None)
            if not m.min_duration <= duration <= m.max_duration:
                return False
        return True

    def report(self, ev: Evaluation, j: int) -> list[ConditionReport]:
        """Every condition of every one-hand gesture on hand ``j`` with its measured value."""
        feats = ev.features
        out: list[ConditionReport] = []
        for pi, p in enumerate(self.poses):
            g = int(self.pose_gesture[pi])
            name = self.defs[g].name
            for f, states in p.fingers.items():
                s = STATES[int(feats.state[j, _FI[f]])]
                out.append(ConditionReport(name, self.pose_number[pi], f"{f} {'|'.join(states)}", s, s in states))
            for a in np.flatnonzero(self.atom_pose == pi):
                value = float(ev.atom_values[j, a])
                if a < self.n_dir:  # stored as the cosine to the nearest allowed direction
                    value = math.degrees(math.acos(max(-1.0, min(1.0, value))))
                unit = "deg" if a < self.n_dir or a >= self.n_dir + self.n_dist else "palm"
                out.append(ConditionReport(name, self.pose_number[pi], self.atom_desc[a], f"{value:.2f} {unit}",
                                           bool(ev.atoms[j, a])))
        for g in self.motion_idx:
            m = self.defs[g].motion
            key = (j, int(round(m.window * 1000)))
            if key in ev.motions:
                mv = ev.motions[key]
                disp, dt = mv.displacement, mv.dt
                val = f"moved ({disp[0]:+.2f}, {disp[1]:+.2f}) palm in {dt:.2f}s"
                if m.distance_frame != _NO_THRESHOLD:
                    val += f", {float(np.hypot(*mv.displacement_frame)):.3f} frame widths"
                if m.has_duration:
                    d = mv.duration(_PLANE_UNITS[m.direction] if m.direction is not None else None)
                    val += f", moving for {d:.2f}s"
            else:
                val = "pose does not hold"
            out.append(ConditionReport(self.defs[g].name, 0, f"motion {m.direction or 'any'} over {m.window:g}s",
                                       val, bool(ev.hand_ok[j, g])))
        return out
