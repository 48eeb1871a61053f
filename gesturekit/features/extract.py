"""Hand features shared by rules and learned classifiers, computed once per hand per frame.

:class:`FeatureExtractor` turns a :class:`~gesturekit.values.Frame` into :class:`HandFeatures`:
numpy arrays over the frame's N hands (no per-keypoint Python objects). It keeps a little state
per track: the previous finger states (for hysteresis) and a short history of palm positions
(for velocity, motion over a window, and the change of two-hand distances). A track's history
outlives a short loss of the hand (``gap``), so a motion is measured across the frames a fast,
blurred sweep loses.

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

Motion (:class:`Movement`, what ``motion:`` in a gesture definition tests) is the *sweep* of the
hand between the first and the last sharp sample of the window, in the window's *palm length*.
The window is time *in view*: frames in which the hand was lost do not count (a step across a
loss counts as about one frame), so a sweep that loses the hand for a few blurred frames is
measured from the last position before the loss to the first after it.

- the palm length of a motion is the longest the palm (wrist to knuckles, in the image) looked
  within the window: blur and foreshortening only ever shorten it, and on a fast sweep at 15 fps
  it collapses to a fraction of its length in the blurred frames;
- a sample whose palm looks shorter than 0.6 of that is *collapsed* (blurred): it is no end of the
  sweep, so the sweep runs from the last sharp position before the blur (or a loss of the hand)
  to the first sharp one after it;
- the sweep is the palm centre's displacement, or the index fingertip's where that went further
  while the palm moved with it: a pointing finger flicked down sweeps its tip across the hand's
  length while the palm drops a little. The fingertip counts where the palm centre went the
  same way (within 30 degrees) and at most five times as far as the palm went, so a finger that
  curls, or one the tracker misreads for a frame, while the palm stays or goes elsewhere is no
  sweep.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from gesturekit.features.normalize import PALM_KNUCKLES, canonicalize
from gesturekit.values import Frame, Hand

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
    "Movement",
    "FeatureExtractor",
    "finger_curls",
    "finger_states",
    "view_points",
    "nearest_direction",
    "sweep",
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
_NO_STATE = np.full(5, -1)
_C1, _C2 = np.array([1, 2, 0]), np.array([2, 0, 1])  # cross product index cycles
_SIGN_MIRRORED, _SIGN_UNMIRRORED = np.array([1.0, -1.0]), np.array([-1.0, -1.0])
_KNUCKLES = np.array(PALM_KNUCKLES)


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
    chain = points[:, _CHAINS]
    bones = chain[:, :, 1:] - chain[:, :, :-1]  # (N, 5, 4, D)
    a, b = bones[:, :, :-1], bones[:, :, 1:]
    ab = np.einsum("...i,...i->...", a, b)
    sq = np.einsum("...i,...i->...", bones, bones)  # squared bone lengths, (N, 5, 4)
    cos = ab / np.maximum(np.sqrt(sq[:, :, :-1] * sq[:, :, 1:]), _EPS)
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
    flex = np.asarray(flex, dtype=np.float64)
    prev = np.full(flex.shape, -1) if previous is None else np.asarray(previous)
    return _states(flex, prev, _threshold_table(thresholds))


def _states(flex: np.ndarray, prev: np.ndarray, table: tuple[np.ndarray, ...]) -> np.ndarray:
    # the thumb's reach grows as it extends, a finger's curl shrinks: negate the reach so that
    # "below" means extended in every column
    v = flex * _FLEX_SIGN
    lo_enter, lo_exit, hi_enter, hi_exit = table
    ext = v < np.where(prev == EXTENDED, lo_exit, lo_enter)
    cur = v > np.where(prev == CURLED, hi_exit, hi_enter)
    return np.where(ext, EXTENDED, np.where(cur, CURLED, HALF)).astype(np.int8)


_FLEX_SIGN = np.array([-1.0, 1.0, 1.0, 1.0, 1.0])
_TABLES: dict[StateThresholds, tuple[np.ndarray, ...]] = {}


def _threshold_table(t: StateThresholds) -> tuple[np.ndarray, ...]:
    """Per-column (thumb, fingers) thresholds on the signed flex scale, cached per thresholds."""
    tab = _TABLES.get(t)
    if tab is None:
        def col(thumb: float, finger: float) -> np.ndarray:
            return np.array([thumb, finger, finger, finger, finger])

        tab = (col(-t.thumb_extended_enter, t.extended_enter), col(-t.thumb_extended_exit, t.extended_exit),
               col(-t.thumb_curled_enter, t.curled_enter), col(-t.thumb_curled_exit, t.curled_exit))
        _TABLES[t] = tab
    return tab


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
    n = len(px)
    xy = np.concatenate([px, w[:, :, :2]])  # (2N, 21, 2): pixels, then world x/y
    xy = xy - xy.sum(axis=1, keepdims=True) * (1.0 / 21.0)
    energy = np.einsum("nij,nij->n", xy, xy)
    k = np.sqrt(energy[:n] / np.maximum(energy[n:], _EPS))  # px per metre (least squares)
    k = np.maximum(k, _EPS)
    pts = np.empty(w.shape)
    pts[:, :, :2] = xy[:n] * ((_SIGN_MIRRORED if mirrored else _SIGN_UNMIRRORED) / k[:, None])[:, None]
    np.negative(w[:, :, 2], out=pts[:, :, 2])  # performer's right, up, forward
    pts -= (pts[:, 5] + pts[:, 9] + pts[:, 13] + pts[:, 17])[:, None] * 0.25
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
    :ivar world: ``(N, 21, 3)`` MediaPipe world keypoints (metres); :attr:`canonical` derives from them.
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
    world: np.ndarray
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
    #: ``(N, 7, 3)``: the five finger directions, ``palm_up`` and ``palm_normal`` in one array
    vectors: np.ndarray | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.track_ids)

    @property
    def canonical(self) -> np.ndarray:
        """``(N, 21, 3)`` keypoints in the canonical hand frame (:func:`gesturekit.features.normalize.canonicalize`,
        left hands mirrored onto right), computed on first use."""
        c = self.__dict__.get("_canonical")
        if c is None:
            c = canonicalize(self.world, self.handedness) if len(self) else np.zeros((0, 21, 3))
            self.__dict__["_canonical"] = c
        return c

    def distance(self, a: int | Sequence[int] | np.ndarray, b: int | Sequence[int] | np.ndarray) -> np.ndarray:
        """Distances between keypoints ``a`` and ``b`` (indices, broadcast) in palm units: ``(N, ...)``."""
        d = self.points[:, a] - self.points[:, b]
        return np.sqrt((d * d).sum(-1))

    def movement(self, i: int, window: float) -> Movement:
        """Hand ``i``'s sweep over the last ``window`` seconds in view (since the track's last
        motion reset): see :class:`Movement`."""
        if self.extractor is None:
            return Movement.none()
        return self.extractor.movement(int(self.track_ids[i]), self.t, window, self.width)

    def motion(self, i: int, window: float) -> tuple[np.ndarray, float]:
        """Displacement of hand ``i``'s palm centre over the last ``window`` seconds in view (since
        the track's last motion reset), view frame x/y in the window's palm length, and the time
        it spans."""
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


#: A sample whose palm looks shorter than this fraction of the window's longest is collapsed (blurred).
COLLAPSED = 0.6
#: A fingertip's sweep counts at most this many times as far as the palm centre went its way ...
FOLLOW = 5.0
#: ... and only where the palm went within this many degrees of the fingertip's way.
FOLLOW_WITHIN = 30.0
_FOLLOW_COS = math.cos(math.radians(FOLLOW_WITHIN))


def sweep(palm: np.ndarray, tip: np.ndarray) -> tuple[np.ndarray, bool]:
    """A hand's sweep from the displacements of its palm centre and of its index fingertip (x/y).

    The fingertip's, where the palm centre went the same way (within :data:`FOLLOW_WITHIN`
    degrees), counted at most :data:`FOLLOW` times as far as the palm went, and where that is
    the longer; else the palm centre's. Returns the sweep and whether it is the fingertip's.
    """
    palm, tip = np.asarray(palm, dtype=np.float64), np.asarray(tip, dtype=np.float64)
    reach, moved = math.hypot(tip[0], tip[1]), math.hypot(palm[0], palm[1])
    if reach > _EPS:
        followed = float(palm @ tip) / reach  # how far the palm went the fingertip's way
        if followed > 0.0 and followed >= _FOLLOW_COS * moved:
            capped = tip * min(1.0, FOLLOW * followed / reach)
            if math.hypot(capped[0], capped[1]) > moved:
                return capped, True
    return palm, False


class Movement:
    """A track's sweep over a motion window (view frame: x the performer's right, y up); see the
    module's notes on motion.

    :ivar displacement: ``(2,)`` the sweep, in the window's palm length.
    :ivar displacement_frame: ``(2,)`` the same as a fraction of the image width.
    :ivar dt: the time from the first to the last sharp sample of the window, seconds.
    """

    __slots__ = ("displacement", "displacement_frame", "dt", "_samples")

    def __init__(self, displacement: np.ndarray, displacement_frame: np.ndarray, dt: float,
                 samples: np.ndarray | Sequence[tuple[float, float, float]] = ()) -> None:
        self.displacement = displacement
        self.displacement_frame = displacement_frame
        self.dt = dt
        self._samples = samples  # (t, x_px, y_px) of the swept point at the sharp samples, oldest first

    @classmethod
    def none(cls) -> Movement:
        """No movement (fewer than two samples)."""
        return cls(np.zeros(2), np.zeros(2), 0.0)

    def duration(self, direction: Sequence[float] | None = None) -> float:
        """How long the hand has been moving on its way without turning back, seconds: the span of
        the latest run of sharp samples in the window each of which advanced along ``direction``
        (a unit x/y vector; default: the direction of the whole displacement)."""
        if len(self._samples) < 2:
            return 0.0
        a = np.array(self._samples)
        u = np.asarray(direction, dtype=np.float64) if direction is not None else self.displacement_frame
        steps = np.diff(a[:, 1:3], axis=0) @ u
        back = np.flatnonzero(steps <= 0.0)
        start = int(back[-1]) + 1 if back.size else 0
        return float(a[-1, 0] - a[start, 0])


class FeatureExtractor:
    """Computes :class:`HandFeatures` for each Frame; keeps per-track state.

    :param mirrored: the frames are a mirrored selfie view (defines the performer's left/right).
    :param thresholds: finger-state thresholds.
    :param velocity_window: seconds over which velocity is measured.
    :param history: seconds of palm positions kept per track (the longest motion window).
    :param gap: seconds a track that left the frames is remembered (its motion history and
        finger states), so a hand lost for a few frames carries on where it was; as long as the
        tracker keeps a lost track's id.
    """

    def __init__(self, mirrored: bool = False, thresholds: StateThresholds = StateThresholds(),
                 velocity_window: float = 0.2, history: float = 2.0, gap: float = 0.5) -> None:
        self.mirrored = bool(mirrored)
        self.thresholds = thresholds
        self.velocity_window = velocity_window
        self.history = history
        self.gap = gap
        self._prev_state: dict[int, np.ndarray] = {}
        # per track: deque of (t, x_view_px, y_view_px, palm_px, tip_x_view_px, tip_y_view_px,
        # palm_image_px) (palm centre, palm length, index fingertip, palm length in the image);
        # and the last motion reset time
        self._track: dict[int, deque] = {}
        self._reset_at: dict[int, float] = {}
        self._pairs: dict[tuple[int, int], deque] = {}
        self._counts: deque = deque()  # (t, hands in the frame) over the last gap seconds

    @property
    def thresholds(self) -> StateThresholds:
        """The finger-state thresholds."""
        return self._thresholds

    @thresholds.setter
    def thresholds(self, value: StateThresholds) -> None:
        self._thresholds = value
        self._table = _threshold_table(value)

    def reset(self) -> None:
        """Forget all per-track state."""
        self._prev_state.clear()
        self._track.clear()
        self._reset_at.clear()
        self._pairs.clear()
        self._counts.clear()

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
        px = np.array([h.keypoints for h in hands], dtype=np.float64)
        w = np.array([h.keypoints3d for h in hands], dtype=np.float64)
        handed = tuple(h.handedness for h in hands)
        pts, k = view_points(px, w, self.mirrored)
        knuckles = pts[:, _KNUCKLES] - pts[:, :1]
        palm = np.sqrt(np.einsum("nki,nki->nk", knuckles, knuckles)).sum(axis=1) * 0.25
        pts *= (1.0 / np.maximum(palm, _EPS))[:, None, None]
        # curl seen in 3D and in the image plane, in one call: (2N, 21, 3)
        both = np.concatenate([pts, np.concatenate([px, np.zeros((n, 21, 1))], axis=2)])
        curls = finger_curls(both)
        curl = np.minimum(curls[:n], curls[n:])
        tr = pts[:, 4] - pts[:, 17]
        reach = np.sqrt(np.einsum("ni,ni->n", tr, tr))
        flex = curl.copy()
        flex[:, 0] = reach
        get = self._prev_state.get
        prev = np.array([get(t_id, _NO_STATE) for t_id in ids.tolist()])
        state = _states(flex, prev, self._table)
        vecs = np.empty((n, 7, 3))  # five finger directions, the palm's up, the palm normal
        vecs[:, :5] = pts[:, _TIPS] - pts[:, _BASES]
        vecs[:, 5] = pts[:, 9] - pts[:, 0]
        across, along = pts[:, 5] - pts[:, 17], vecs[:, 5]
        vecs[:, 6] = across[:, _C1] * along[:, _C2] - across[:, _C2] * along[:, _C1]  # across x along
        vecs[:, 6] *= (np.array([-1.0 if h == "left" else 1.0 for h in handed])
                       * (1.0 if self.mirrored else -1.0))[:, None]
        vecs /= np.maximum(np.sqrt((vecs * vecs).sum(-1)), _EPS)[:, :, None]
        direction, up, normal = vecs[:, :5], vecs[:, 5], vecs[:, 6]
        center = (px[:, 5] + px[:, 9] + px[:, 13] + px[:, 17]) * 0.25
        palm_px = palm * k
        for j, tid in enumerate(ids.tolist()):
            self._prev_state[tid] = state[j]
        wrist_knuckles = px[:, _KNUCKLES] - px[:, :1]
        palm_image = np.sqrt(np.einsum("nki,nki->nk", wrist_knuckles, wrist_knuckles)).sum(axis=1) * 0.25
        self._remember(ids, center, palm_px, px[:, 8], palm_image, t)
        velocity = np.array([self._velocity(tid, t) for tid in ids.tolist()])
        return HandFeatures(t, width, height, ids, handed, np.array([h.score for h in hands]), pts, w, curl,
                            reach, state, direction, normal, up, center, palm_px, velocity, self, vecs)

    # -- per-track history -------------------------------------------------------------------------

    def _remember(self, ids: np.ndarray, center: np.ndarray, palm_px: np.ndarray, tip: np.ndarray,
                  palm_image: np.ndarray, t: float) -> None:
        sx = 1.0 if self.mirrored else -1.0
        for j, tid in enumerate(ids.tolist()):
            q = self._track.setdefault(tid, deque())
            if q and t < q[-1][0]:  # the clock went back: a new source
                q.clear()
                self._reset_at.pop(tid, None)
            q.append((t, sx * center[j, 0], -center[j, 1], palm_px[j], sx * tip[j, 0], -tip[j, 1], palm_image[j]))
            while q and q[0][0] < t - self.history:
                q.popleft()
        self._forget(set(ids.tolist()), t)

    def _forget(self, live: set[int], t: float) -> None:
        """Forget the tracks that left the frame, but for as many of the latest as hands went
        missing within ``gap`` seconds (a hand lost in a blurred frame comes back); and the pairs
        of hands not both in this frame."""
        counts = self._counts
        while counts and not (t - self.gap <= counts[0][0] <= t):
            counts.popleft()
        counts.append((t, len(live)))
        missing = max(n for _, n in counts) - len(live)
        lost = sorted(((q[-1][0], tid) for tid, q in self._track.items() if tid not in live), reverse=True)
        for i, (seen, tid) in enumerate(lost):
            if i >= missing or not t - self.gap <= seen <= t:
                del self._track[tid]
                self._prev_state.pop(tid, None)
                self._reset_at.pop(tid, None)
        for key in [k for k in self._pairs if k[0] not in live or k[1] not in live]:
            del self._pairs[key]

    def _window(self, track_id: int, t: float, window: float) -> np.ndarray | None:
        """The track's sharp samples within the last ``window`` seconds *in view* up to ``t``
        (since its last motion reset), as rows of the history; None for fewer than two.

        Time in which the hand was lost does not count: a step between two samples counts at
        most 1.5 of the track's usual frame interval, so a sweep that loses the hand for a few
        frames is measured from the last sharp position before the loss.
        """
        q = self._track.get(track_id)
        if not q or len(q) < 2 or q[-1][0] > t:
            return None
        a = np.array(q)
        a = a[a[:, 0] >= self._reset_at.get(track_id, -np.inf)]
        if len(a) < 2:
            return None
        steps = np.diff(a[:, 0])
        counted = np.minimum(steps, 1.5 * float(np.median(steps)))
        before_last = np.append(np.cumsum(counted[::-1])[::-1], 0.0) + (t - a[-1, 0])  # time in view to t
        a = a[before_last <= window + 1e-6]
        if len(a) < 2:
            return None
        a = a[a[:, 6] >= COLLAPSED * a[:, 6].max()]
        return a if len(a) >= 2 else None

    def displacement(self, track_id: int, t: float, window: float, rate: bool = False) -> tuple[np.ndarray, float]:
        """Palm-centre displacement of a track over ``window`` seconds up to ``t``, from its first
        to its last sharp sample (view frame x/y, in the window's palm length: see the module's
        notes on motion), and the time it spans; with ``rate`` divided by that time (velocity)."""
        a = self._window(track_id, t, window)
        if a is None:
            return np.zeros(2), 0.0
        dt = float(a[-1, 0] - a[0, 0])
        d = (a[-1, 1:3] - a[0, 1:3]) / max(float(a[:, 6].max()), _EPS)
        if rate:
            d = d / max(dt, _EPS)
        return d, dt

    def movement(self, track_id: int, t: float, window: float, width: int = 0) -> Movement:
        """The :class:`Movement` (the sweep) of a track over ``window`` seconds up to ``t`` (since
        its last motion reset); ``width`` is the image width in pixels for the frame-unit sweep."""
        a = self._window(track_id, t, window)
        if a is None:
            return Movement.none()
        px, by_tip = sweep(a[-1, 1:3] - a[0, 1:3], a[-1, 4:6] - a[0, 4:6])
        return Movement(px / max(float(a[:, 6].max()), _EPS), px / max(width, 1), float(a[-1, 0] - a[0, 0]),
                        a[:, [0, 4, 5] if by_tip else [0, 1, 2]])

    def _velocity(self, track_id: int, t: float) -> tuple[float, float]:
        """Palm-centre velocity over ``velocity_window`` (view frame x/y, palm units per second)."""
        q = self._track.get(track_id)
        if not q or len(q) < 2:
            return (0.0, 0.0)
        start = t - self.velocity_window - 1e-6
        first = last = q[-1]
        for s in reversed(q):
            if s[0] < start:
                break
            first = s
        dt = last[0] - first[0]
        if dt <= 0:
            return (0.0, 0.0)
        scale = 2.0 / (max(first[3] + last[3], _EPS) * dt)
        return ((last[1] - first[1]) * scale, (last[2] - first[2]) * scale)

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
