"""Hand features shared by rules and learned classifiers, computed once per hand per frame.

:class:`FeatureExtractor` turns a :class:`~gesturekit.values.Frame` into :class:`HandFeatures`:
numpy arrays over the frame's N hands (no per-keypoint Python objects). It keeps a little state
per track: the previous finger states (for hysteresis) and a short history of palm positions
(for velocity, motion over a window, and the change of two-hand distances).

The *view frame*. Directions are given from the performer's point of view: ``x`` is the
performer's right, ``y`` is up, ``z`` is forward (away from the performer, toward the camera).
In an unmirrored image (a camera looking at the performer, the default for files) the
performer's right is the image's left; in a mirrored selfie view it is the image's right. The
extractor needs to be told which (``mirrored``).

Keypoints in the view frame combine the image (x, y, accurate) with MediaPipe's metric depth
(z, less accurate): pixels are scaled to metres by a least-squares fit of the 2D keypoints to the
world keypoints' x/y. One *palm unit* is the mean wrist-to-knuckle distance.

Finger state: the four fingers use their *curl*, the summed bend of the three joints in degrees
(0 = straight), taken as the smaller of the curl seen in the view frame and in the image plane
(MediaPipe's depth can bend a straight finger seen from the back of the hand, never the image).
The thumb uses its *reach*: the distance from its tip to the pinky knuckle in palm units (a
thumb folded across the palm has a small reach, whatever its joints do).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .normalize import PALM_KNUCKLES, canonicalize
from .values import Frame, Hand

__all__ = [
    "FINGER_NAMES",
    "STATES",
    "EXTENDED",
    "HALF",
    "CURLED",
    "DIRECTIONS",
    "StateThresholds",
    "HandFeatures",
    "PairFeatures",
    "FeatureExtractor",
    "finger_curls",
    "finger_states",
    "view_points",
    "nearest_direction",
]

FINGER_NAMES: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
STATES: tuple[str, ...] = ("extended", "half", "curled")
EXTENDED, HALF, CURLED = 0, 1, 2

#: Unit vectors of the named directions in the view frame (performer's right, up, forward).
DIRECTIONS: dict[str, np.ndarray] = {
    "up": np.array([0.0, 1.0, 0.0]),
    "down": np.array([0.0, -1.0, 0.0]),
    "left": np.array([-1.0, 0.0, 0.0]),
    "right": np.array([1.0, 0.0, 0.0]),
    "forward": np.array([0.0, 0.0, 1.0]),
    "back": np.array([0.0, 0.0, -1.0]),
}
_DIR_NAMES = tuple(DIRECTIONS)
_DIR_MATRIX = np.stack([DIRECTIONS[n] for n in _DIR_NAMES])  # (6, 3)

# Joint chains: wrist + the finger's four keypoints; bones are consecutive differences.
_CHAINS = np.array([[0, 1, 2, 3, 4], [0, 5, 6, 7, 8], [0, 9, 10, 11, 12], [0, 13, 14, 15, 16], [0, 17, 18, 19, 20]])
_BASES = np.array([2, 5, 9, 13, 17])  # direction of a finger: from this joint to its tip
_TIPS = np.array([4, 8, 12, 16, 20])
_EPS = 1e-9


@dataclass(frozen=True)
class StateThresholds:
    """Where finger states change, with hysteresis (``enter`` to become, ``exit`` to stop being).

    Fingers use curl in degrees; the thumb uses its reach in palm units.
    """

    extended_enter: float = 95.0
    extended_exit: float = 110.0
    curled_enter: float = 125.0
    curled_exit: float = 112.0
    thumb_extended_enter: float = 1.05
    thumb_extended_exit: float = 0.98
    thumb_curled_enter: float = 0.95
    thumb_curled_exit: float = 1.0

    def __post_init__(self) -> None:
        if not (self.extended_enter <= self.extended_exit and self.curled_exit <= self.curled_enter
                and self.extended_enter < self.curled_enter):
            raise ValueError("finger thresholds must satisfy extended_enter <= extended_exit, "
                             "curled_exit <= curled_enter and extended_enter < curled_enter")
        if not (self.thumb_extended_exit <= self.thumb_extended_enter
                and self.thumb_curled_enter <= self.thumb_curled_exit
                and self.thumb_curled_enter < self.thumb_extended_enter):
            raise ValueError("thumb thresholds must satisfy thumb_extended_exit <= thumb_extended_enter, "
                             "thumb_curled_enter <= thumb_curled_exit and thumb_curled_enter < thumb_extended_enter")


def _angles(points: np.ndarray) -> np.ndarray:
    """Bend angles (degrees) at the three joints of each finger: ``(N, 21, D) -> (N, 5, 3)``."""
    bones = np.diff(points[:, _CHAINS], axis=2)  # (N, 5, 4, D)
    a, b = bones[:, :, :-1], bones[:, :, 1:]
    cos = (a * b).sum(-1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), _EPS)
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))


def finger_curls(points: np.ndarray) -> np.ndarray:
    """Curl of each finger in degrees (sum of its three joint bends): ``(N, 21, D) -> (N, 5)``.

    Works on 2D or 3D keypoints. A straight finger is 0; a fist is about 200-260.
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    return _angles(p).sum(-1)


def finger_states(flex: np.ndarray, previous: np.ndarray | None = None,
                  thresholds: StateThresholds = StateThresholds()) -> np.ndarray:
    """Finger states (0 extended, 1 half, 2 curled) from curl (fingers) and reach (thumb).

    :param flex: ``(N, 5)``: column 0 is the thumb's reach (palm units), columns 1-4 the fingers'
        curl (degrees).
    :param previous: ``(N, 5)`` previous states (``-1`` for none) for hysteresis.
    :returns: ``(N, 5)`` int8 states.
    """
    t = thresholds
    flex = np.asarray(flex, dtype=np.float64)
    prev = np.full(flex.shape, -1) if previous is None else np.asarray(previous)
    was_ext, was_cur = prev == EXTENDED, prev == CURLED
    out = np.full(flex.shape, HALF, dtype=np.int8)
    curl, reach = flex[:, 1:], flex[:, :1]
    ext = curl < np.where(was_ext[:, 1:], t.extended_exit, t.extended_enter)
    cur = curl > np.where(was_cur[:, 1:], t.curled_exit, t.curled_enter)
    out[:, 1:][cur] = CURLED
    out[:, 1:][ext] = EXTENDED
    t_ext = reach > np.where(was_ext[:, :1], t.thumb_extended_exit, t.thumb_extended_enter)
    t_cur = reach < np.where(was_cur[:, :1], t.thumb_curled_exit, t.thumb_curled_enter)
    out[:, :1][t_cur] = CURLED
    out[:, :1][t_ext] = EXTENDED
    return out


def view_points(keypoints: np.ndarray, keypoints3d: np.ndarray, mirrored: bool = False) -> tuple[np.ndarray,
                                                                                                 np.ndarray]:
    """Keypoints in the view frame in metres, centred on the palm, and the pixels per metre.

    :param keypoints: ``(N, 21, 2)`` pixels.
    :param keypoints3d: ``(N, 21, 3)`` MediaPipe world keypoints (metres).
    :param mirrored: the image is a mirrored selfie view.
    :returns: ``(points (N, 21, 3), px_per_m (N,))``.
    """
    px = np.asarray(keypoints, dtype=np.float64)
    w = np.asarray(keypoints3d, dtype=np.float64)
    c2 = px - px.mean(axis=1, keepdims=True)
    cw = w[:, :, :2] - w[:, :, :2].mean(axis=1, keepdims=True)
    k = np.sqrt((c2 ** 2).sum((1, 2)) / np.maximum((cw ** 2).sum((1, 2)), _EPS))  # px per metre
    k = np.maximum(k, _EPS)
    xy = c2 / k[:, None, None]
    sx = 1.0 if mirrored else -1.0  # the performer's right
    pts = np.empty(w.shape)
    pts[:, :, 0] = sx * xy[:, :, 0]
    pts[:, :, 1] = -xy[:, :, 1]
    pts[:, :, 2] = -w[:, :, 2]
    pts -= pts[:, PALM_KNUCKLES].mean(axis=1, keepdims=True)
    return pts, k


def nearest_direction(vectors: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Name of the nearest named direction and the angle to it (degrees) for ``(..., 3)`` vectors."""
    v = np.asarray(vectors, dtype=np.float64)
    u = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), _EPS)
    cos = u @ _DIR_MATRIX.T
    i = cos.argmax(-1)
    ang = np.degrees(np.arccos(np.clip(np.take_along_axis(cos, i[..., None], -1)[..., 0], -1, 1)))
    return [_DIR_NAMES[j] for j in np.ravel(i)], ang


@dataclass
class HandFeatures:
    """Features of the N hands of one frame (all arrays have N rows).

    :ivar points: ``(N, 21, 3)`` view-frame keypoints in palm units, origin at the palm centre.
    :ivar canonical: ``(N, 21, 3)`` canonical hand frame (see :mod:`gesturekit.normalize`).
    :ivar curl: ``(N, 5)`` finger curl in degrees (thumb included, from its joints).
    :ivar thumb_reach: ``(N,)`` thumb tip to pinky knuckle, palm units.
    :ivar state: ``(N, 5)`` 0 extended / 1 half / 2 curled.
    :ivar direction: ``(N, 5, 3)`` unit finger directions (base joint to tip), view frame.
    :ivar palm_normal: ``(N, 3)`` unit vector out of the palm, view frame.
    :ivar palm_up: ``(N, 3)`` unit vector wrist to middle knuckle, view frame.
    :ivar center_px: ``(N, 2)`` palm centre in pixels; ``palm_px``: ``(N,)`` palm unit in pixels.
    :ivar velocity: ``(N, 2)`` palm-centre velocity in the view frame's x/y, palm units per second.
    """

    t: float
    width: int
    height: int
    track_ids: np.ndarray
    handedness: tuple[str, ...]
    score: np.ndarray
    points: np.ndarray
    canonical: np.ndarray
    curl: np.ndarray
    thumb_reach: np.ndarray
    state: np.ndarray
    direction: np.ndarray
    palm_normal: np.ndarray
    palm_up: np.ndarray
    center_px: np.ndarray
    palm_px: np.ndarray
    velocity: np.ndarray
    extractor: FeatureExtractor | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.track_ids)

    def distance(self, a: int | Sequence[int] | np.ndarray, b: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Distances between keypoints ``a`` and ``b`` (indices, broadcast) in palm units: ``(N, ...)``."""
        return np.linalg.norm(self.points[:, a] - self.points[:, b], axis=-1)

    def motion(self, i: int, window: float) -> tuple[np.ndarray, float]:
        """Displacement of hand ``i``'s palm centre over the last ``window`` seconds (since the
        track's last motion reset), view frame x/y in palm units, and the time it spans."""
        if self.extractor is None:
            return np.zeros(2), 0.0
        return self.extractor.displacement(int(self.track_ids[i]), self.t, window)


@dataclass
class PairFeatures:
    """Relations of one pair of hands (indices ``i``, ``j`` into :class:`HandFeatures`).

    :ivar distance: palm centres apart, in mean palm units of the two hands.
    :ivar distance_frame: palm centres apart, as a fraction of the image width.
    """

    i: int
    j: int
    distance: float
    distance_frame: float


class FeatureExtractor:
    """Computes :class:`HandFeatures` for each Frame; keeps per-track state.

    :param mirrored: the frames are a mirrored selfie view (defines the performer's left/right).
    :param thresholds: finger-state thresholds.
    :param velocity_window: seconds over which velocity is measured.
    :param history: seconds of palm positions kept per track (the longest motion window).
    """

    def __init__(self, mirrored: bool = False, thresholds: StateThresholds = StateThresholds(),
                 velocity_window: float = 0.2, history: float = 2.0) -> None:
        self.mirrored = bool(mirrored)
        self.thresholds = thresholds
        self.velocity_window = velocity_window
        self.history = history
        self._prev_state: dict[int, np.ndarray] = {}
        # per track: deque of (t, x_view_px, y_view_px, palm_px); and the last motion reset time
        self._track: dict[int, deque] = {}
        self._reset_at: dict[int, float] = {}
        self._pairs: dict[tuple[int, int], deque] = {}

    def reset(self) -> None:
        """Forget all per-track state."""
        self._prev_state.clear()
        self._track.clear()
        self._reset_at.clear()
        self._pairs.clear()

    def extract(self, frame: Frame) -> HandFeatures:
        """Features of every hand in ``frame`` (updates the per-track state)."""
        return self.compute(frame.hands, frame.t, frame.width, frame.height)

    def compute(self, hands: Sequence[Hand], t: float, width: int = 0, height: int = 0) -> HandFeatures:
        """Features of ``hands`` seen at time ``t`` (see :meth:`extract`)."""
        n = len(hands)
        ids = np.array([h.track_id for h in hands], dtype=np.int64)
        if n == 0:
            self._forget(set(), t)
            z3 = np.zeros((0, 21, 3))
            return HandFeatures(t, width, height, ids, (), np.zeros(0), z3, z3, np.zeros((0, 5)), np.zeros(0),
                                np.zeros((0, 5), np.int8), np.zeros((0, 5, 3)), np.zeros((0, 3)),
                                np.zeros((0, 3)), np.zeros((0, 2)), np.zeros(0), np.zeros((0, 2)), self)
        px = np.stack([h.keypoints for h in hands])
        w = np.stack([h.keypoints3d for h in hands])
        handed = tuple(h.handedness for h in hands)
        pts, k = view_points(px, w, self.mirrored)
        palm = np.linalg.norm(pts[:, PALM_KNUCKLES] - pts[:, :1], axis=-1).mean(axis=1)
        pts = pts / np.maximum(palm, _EPS)[:, None, None]
        curl3 = finger_curls(pts)
        curl2 = finger_curls(px)
        curl = np.minimum(curl3, curl2)
        reach = np.linalg.norm(pts[:, 4] - pts[:, 17], axis=-1)
        flex = np.concatenate([reach[:, None], curl[:, 1:]], axis=1)
        prev = np.stack([self._prev_state.get(int(i), np.full(5, -1)) for i in ids])
        state = finger_states(flex, prev, self.thresholds)
        d = pts[:, _TIPS] - pts[:, _BASES]
        direction = d / np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), _EPS)
        up = pts[:, 9] - pts[:, 0]
        up /= np.maximum(np.linalg.norm(up, axis=-1, keepdims=True), _EPS)
        normal = np.cross(pts[:, 5] - pts[:, 17], up)
        sign = np.where(np.array(handed) == "left", -1.0, 1.0) * (1.0 if self.mirrored else -1.0)
        normal *= sign[:, None]
        normal /= np.maximum(np.linalg.norm(normal, axis=-1, keepdims=True), _EPS)
        center = px[:, PALM_KNUCKLES].mean(axis=1)
        palm_px = palm * k
        canonical = canonicalize(w, handed)
        for j, tid in enumerate(ids.tolist()):
            self._prev_state[tid] = state[j]
        self._remember(ids, center, palm_px, t)
        velocity = np.stack([self.displacement(int(i), t, self.velocity_window, rate=True)[0] for i in ids])
        return HandFeatures(t, width, height, ids, handed, np.array([h.score for h in hands]), pts, canonical, curl,
                            reach, state, direction, normal, up, center, palm_px, velocity, self)

    # -- per-track history -------------------------------------------------------------------------

    def _remember(self, ids: np.ndarray, center: np.ndarray, palm_px: np.ndarray, t: float) -> None:
        sx = 1.0 if self.mirrored else -1.0
        for j, tid in enumerate(ids.tolist()):
            q = self._track.setdefault(tid, deque())
            if q and t < q[-1][0]:  # the clock went back: a new source
                q.clear()
                self._reset_at.pop(tid, None)
            q.append((t, sx * center[j, 0], -center[j, 1], palm_px[j]))
            while q and q[0][0] < t - self.history:
                q.popleft()
        self._forget(set(ids.tolist()), t)

    def _forget(self, live: set[int], t: float) -> None:
        for tid in [k for k in self._track if k not in live]:
            del self._track[tid]
            self._prev_state.pop(tid, None)
            self._reset_at.pop(tid, None)
        for key in [k for k in self._pairs if k[0] not in live or k[1] not in live]:
            del self._pairs[key]

    def displacement(self, track_id: int, t: float, window: float, rate: bool = False) -> tuple[np.ndarray, float]:
        """Palm-centre displacement of a track over ``window`` seconds up to ``t`` (view frame x/y,
        palm units), and the time it spans; with ``rate`` divided by that time (velocity)."""
        q = self._track.get(track_id)
        if not q or len(q) < 2:
            return np.zeros(2), 0.0
        start = max(t - window - 1e-6, self._reset_at.get(track_id, -np.inf))
        first = None
        for s in q:
            if s[0] >= start:
                first = s
                break
        last = q[-1]
        if first is None or first is last:
            return np.zeros(2), 0.0
        dt = last[0] - first[0]
        palm = 0.5 * (first[3] + last[3])
        d = np.array([last[1] - first[1], last[2] - first[2]]) / max(palm, _EPS)
        if rate:
            d = d / max(dt, _EPS)
        return d, dt

    def reset_motion(self, track_id: int, t: float) -> None:
        """Start the track's motion windows afresh at ``t`` (after a dynamic gesture fired)."""
        self._reset_at[int(track_id)] = t

    def pairs(self, feats: HandFeatures) -> list[PairFeatures]:
        """Relations of every pair of hands in ``feats`` (records distances for :meth:`pair_change`)."""
        out = []
        n = len(feats)
        for i in range(n):
            for j in range(i + 1, n):
                gap = float(np.linalg.norm(feats.center_px[i] - feats.center_px[j]))
                mean_palm = float(0.5 * (feats.palm_px[i] + feats.palm_px[j]))
                p = PairFeatures(i, j, gap / max(mean_palm, _EPS), gap / max(feats.width, 1))
                key = (int(min(feats.track_ids[i], feats.track_ids[j])), int(max(feats.track_ids[i],
                                                                                   feats.track_ids[j])))
                q = self._pairs.setdefault(key, deque())
                if not q or q[-1][0] != feats.t:
                    if q and feats.t < q[-1][0]:
                        q.clear()
                    q.append((feats.t, p.distance))
                while q and q[0][0] < feats.t - self.history:
                    q.popleft()
                out.append(p)
        return out

    def pair_change(self, feats: HandFeatures, pair: PairFeatures, window: float) -> tuple[float, float]:
        """Change of a pair's distance (palm units) over ``window`` seconds, and the time it spans."""
        a, b = int(feats.track_ids[pair.i]), int(feats.track_ids[pair.j])
        q = self._pairs.get((min(a, b), max(a, b)))
        if not q or len(q) < 2:
            return 0.0, 0.0
        start = feats.t - window - 1e-6
        for s in q:
            if s[0] >= start:
                return q[-1][1] - s[1], q[-1][0] - s[0]
        return 0.0, 0.0
