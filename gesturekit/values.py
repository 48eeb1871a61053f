"""The core values that flow through gesturekit: Hand, Frame, Detection, GestureEvent.

They are immutable (frozen dataclasses, read-only numpy arrays) and serialize to one
canonical JSON form each (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

import enum
import json
import math
import numbers
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from gesturekit._exceptions import InputError

__all__ = [
    "HandLandmark",
    "KEYPOINT_NAMES",
    "FINGERS",
    "Hand",
    "Frame",
    "Detection",
    "GestureEvent",
    "PHASES",
]


class HandLandmark(enum.IntEnum):
    """The 21 hand keypoints, in MediaPipe's order, named as in the TF.js hand-pose API."""

    WRIST = 0
    THUMB_CMC = 1
    THUMB_MCP = 2
    THUMB_IP = 3
    THUMB_TIP = 4
    INDEX_FINGER_MCP = 5
    INDEX_FINGER_PIP = 6
    INDEX_FINGER_DIP = 7
    INDEX_FINGER_TIP = 8
    MIDDLE_FINGER_MCP = 9
    MIDDLE_FINGER_PIP = 10
    MIDDLE_FINGER_DIP = 11
    MIDDLE_FINGER_TIP = 12
    RING_FINGER_MCP = 13
    RING_FINGER_PIP = 14
    RING_FINGER_DIP = 15
    RING_FINGER_TIP = 16
    PINKY_FINGER_MCP = 17
    PINKY_FINGER_PIP = 18
    PINKY_FINGER_DIP = 19
    PINKY_FINGER_TIP = 20


#: Keypoint names in index order: ``wrist, thumb_cmc, ..., pinky_finger_tip``.
KEYPOINT_NAMES: tuple[str, ...] = tuple(m.name.lower() for m in HandLandmark)

#: Finger name -> its four keypoint indices from the base (CMC/MCP) to the tip.
FINGERS: dict[str, tuple[int, int, int, int]] = {
    "thumb": (1, 2, 3, 4),
    "index": (5, 6, 7, 8),
    "middle": (9, 10, 11, 12),
    "ring": (13, 14, 15, 16),
    "pinky": (17, 18, 19, 20),
}

Handedness = Literal["left", "right"]
PHASES = ("start", "hold", "update", "end", "pulse")
_EVENT_HANDEDNESS = ("left", "right", "unknown")


#: Largest magnitude accepted for a keypoint coordinate (pixels or metres): far beyond any real
#: image, small enough that rounding for JSON never overflows.
KEYPOINT_LIMIT = 1e9
#: Most hands one Detection / GestureEvent may concern (the tracker tracks at most 4).
MAX_HANDS = 4


def _frozen_array(a: Any, shape: tuple[int, ...], what: str = "array") -> np.ndarray:
    try:
        arr = np.array(a, dtype=np.float64)  # copy: the value must not alias caller memory
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be numbers, got {_short(a)}") from None
    if arr.shape != shape:
        raise InputError(f"{what}: expected an array of shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        bad = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise InputError(f"{what} must be finite numbers; keypoint {bad} ({KEYPOINT_NAMES[bad]}) is "
                         f"{arr[bad].tolist()}")
    if arr.size and float(np.abs(arr).max()) > KEYPOINT_LIMIT:
        raise InputError(f"{what}: a coordinate is beyond +-{KEYPOINT_LIMIT:g}")
    arr.flags.writeable = False
    return arr


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


def _is_real(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, (bool, np.bool_))


def _finite(v: Any, what: str, lo: float | None = None, hi: float | None = None) -> float:
    """``v`` as a float: a real number (not a bool), finite, within ``lo..hi``."""
    if _is_real(v):
        f = float(v)
        if math.isfinite(f) and (lo is None or f >= lo) and (hi is None or f <= hi):
            return f
    rng = f" in {lo:g}..{hi:g}" if lo is not None and hi is not None else ""
    raise InputError(f"{what} must be a finite number{rng}, got {_short(v)}")


def _count(v: Any, what: str) -> int:
    """``v`` as an int >= 0 (Python or numpy integer, not a bool)."""
    if isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) and v >= 0:
        return int(v)
    raise InputError(f"{what} must be a whole number >= 0, got {_short(v)}")


def _name(v: Any, what: str) -> str:
    if isinstance(v, str) and v:
        return v
    raise InputError(f"{what} must be a non-empty string, got {_short(v)}")


#: Longest ``text`` a Detection or GestureEvent may carry.
MAX_TEXT = 1000


def _text(v: Any, what: str) -> None:
    if not isinstance(v, str) or len(v) > MAX_TEXT:
        raise InputError(f"{what} must be a string of at most {MAX_TEXT} characters, got {_short(v)}")


def _values(v: Any, what: str) -> dict[str, float]:
    if not isinstance(v, Mapping):
        raise InputError(f"{what} must be a mapping of names to numbers, got {_short(v)}")
    out = {}
    for k, x in v.items():
        if not isinstance(k, str) or not k:
            raise InputError(f"{what}: names must be non-empty strings, got {_short(k)}")
        out[k] = _finite(x, f"{what}[{k!r}]")
    return out


def _sequence(v: Any, what: str) -> tuple:
    if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, (tuple, list)):
        raise InputError(f"{what} must be a tuple or list, got {_short(v)}")
    if len(v) > MAX_HANDS:
        raise InputError(f"{what}: at most {MAX_HANDS} hands, got {len(v)}")
    return tuple(v)


def _round_list(a: np.ndarray, ndigits: int | None) -> list:
    if ndigits is None:
        return a.tolist()
    return np.round(a, ndigits).tolist()


@dataclass(frozen=True, eq=False)
class Hand:
    """One tracked hand in one frame.

    :param track_id: stable id while the hand stays tracked.
    :param handedness: ``"left"`` or ``"right"``, anatomical (corrected for mirroring).
    :param handedness_score: confidence of the handedness label, 0..1.
    :param score: hand presence / detection confidence, 0..1.
    :param keypoints: (21, 2) pixel coordinates (x right, y down).
    :param keypoints3d: (21, 3) metres, origin at the mean of the index, middle, ring and
        pinky MCP knuckles.

    Keypoints must be finite (at most :data:`KEYPOINT_LIMIT` in magnitude) and scores within
    0..1; anything else raises :class:`~gesturekit.InputError` (a ``ValueError``).
    """

    track_id: int
    handedness: Handedness
    handedness_score: float
    score: float
    keypoints: np.ndarray
    keypoints3d: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "track_id", _count(self.track_id, "Hand.track_id"))
        if self.handedness not in ("left", "right"):
            raise InputError(f"handedness must be 'left' or 'right', got {_short(self.handedness)}")
        object.__setattr__(self, "handedness_score", _finite(self.handedness_score, "Hand.handedness_score", 0, 1))
        object.__setattr__(self, "score", _finite(self.score, "Hand.score", 0, 1))
        object.__setattr__(self, "keypoints", _frozen_array(self.keypoints, (21, 2), "Hand.keypoints"))
        object.__setattr__(self, "keypoints3d", _frozen_array(self.keypoints3d, (21, 3), "Hand.keypoints3d"))

    def keypoint(self, name: str | int) -> np.ndarray:
        """Pixel position of a keypoint given by name (``"index_finger_tip"``) or index."""
        return self.keypoints[_index_of(name)]

    def to_dict(self, ndigits: int | None = 6) -> dict[str, Any]:
        """The canonical JSON form (``id``, ``handedness``, scores, keypoints, keypoints3d)."""
        return {
            "id": int(self.track_id),
            "handedness": self.handedness,
            "handedness_score": round(float(self.handedness_score), 6),
            "score": round(float(self.score), 6),
            "keypoints": _round_list(self.keypoints, ndigits),
            "keypoints3d": _round_list(self.keypoints3d, None if ndigits is None else ndigits + 3),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Hand:
        """Inverse of :meth:`to_dict`."""
        return cls(
            track_id=d["id"],
            handedness=d["handedness"],
            handedness_score=d["handedness_score"],
            score=d["score"],
            keypoints=d["keypoints"],
            keypoints3d=d["keypoints3d"],
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Hand):
            return NotImplemented
        return (
            self.track_id == other.track_id
            and self.handedness == other.handedness
            and self.handedness_score == other.handedness_score
            and self.score == other.score
            and np.array_equal(self.keypoints, other.keypoints)
            and np.array_equal(self.keypoints3d, other.keypoints3d)
        )

    __hash__ = None  # type: ignore[assignment]


def _index_of(name: str | int) -> int:
    if isinstance(name, (int, np.integer)):
        return int(name)
    try:
        return int(HandLandmark[name.upper()])
    except KeyError:
        raise KeyError(f"unknown keypoint {name!r}; expected one of {', '.join(KEYPOINT_NAMES)}") from None


@dataclass(frozen=True, eq=False)
class Frame:
    """Everything the tracker knows about one source frame.

    :param index: frame number from the source, starting at 0.
    :param t: seconds on the source's clock (media time for files, capture time for cameras).
    :param width: image width in pixels.
    :param height: image height in pixels.
    :param source: a short name of the source (file name, ``camera:0``, ...).
    :param hands: the hands found, ordered by ``track_id``.
    :param image: the decoded BGR image, when available; never serialized.
    """

    index: int
    t: float
    width: int
    height: int
    source: str
    hands: tuple[Hand, ...] = ()
    image: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "index", _count(self.index, "Frame.index"))
        object.__setattr__(self, "t", _finite(self.t, "Frame.t"))
        object.__setattr__(self, "width", _count(self.width, "Frame.width"))
        object.__setattr__(self, "height", _count(self.height, "Frame.height"))
        if not isinstance(self.source, str):
            raise InputError(f"Frame.source must be a string, got {_short(self.source)}")
        hands = tuple(self.hands)
        bad = next((h for h in hands if not isinstance(h, Hand)), None)
        if bad is not None:
            raise InputError(f"Frame.hands must hold Hand values, got {_short(bad)}")
        object.__setattr__(self, "hands", hands)

    def to_dict(self, ndigits: int | None = 6) -> dict[str, Any]:
        """The canonical JSON form of the frame (without the image); strict JSON (no NaN)."""
        return {
            "index": int(self.index),
            "t": round(float(self.t), 6),
            "width": int(self.width),
            "height": int(self.height),
            "source": self.source,
            "hands": [h.to_dict(ndigits) for h in self.hands],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Frame:
        """Inverse of :meth:`to_dict` (the image is ``None``)."""
        return cls(
            index=d["index"],
            t=d["t"],
            width=d["width"],
            height=d["height"],
            source=str(d.get("source", "")),
            hands=tuple(Hand.from_dict(h) for h in d.get("hands", ())),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Frame):
            return NotImplemented
        return self.to_dict(None) == other.to_dict(None)

    __hash__ = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Detection:
    """What a classifier says about one frame: a gesture that holds now. Stateless.

    :param gesture: the gesture's name (``"thumbs_up"``).
    :param score: confidence 0..1.
    :param hands: the track ids of the hand(s) the detection concerns.
    :param values: continuous values (``{"distance": 0.12}``).
    :param kind: ``"static"`` (holds while the pose holds) or ``"pulse"`` (a one-shot
        dynamic gesture such as a swipe, reported once when it completes).
    :param text: optional text the gesture carries (the spelled word of ``asl_word``), at most
        :data:`MAX_TEXT` characters.

    Checked when built: a value of the wrong type or shape, a NaN or infinite number, a score
    outside 0..1 or more than :data:`MAX_HANDS` (or repeated) hand ids raise
    :class:`~gesturekit.InputError` (a ``ValueError``).
    """

    gesture: str
    score: float = 1.0
    hands: tuple[int, ...] = ()
    values: Mapping[str, float] = field(default_factory=dict)
    kind: Literal["static", "pulse"] = "static"
    text: str = ""

    def __post_init__(self) -> None:
        _name(self.gesture, "Detection.gesture")
        _text(self.text, "Detection.text")
        object.__setattr__(self, "score", _finite(self.score, "Detection.score", 0, 1))
        hands = tuple(_count(h, "Detection.hands[]") for h in _sequence(self.hands, "Detection.hands"))
        if len(set(hands)) != len(hands):
            raise InputError(f"Detection.hands repeats a track id: {hands}")
        object.__setattr__(self, "hands", hands)
        object.__setattr__(self, "values", _values(self.values, "Detection.values"))
        if self.kind not in ("static", "pulse"):
            raise InputError(f"Detection.kind must be 'static' or 'pulse', got {_short(self.kind)}")

    def to_dict(self) -> dict[str, Any]:
        return {"gesture": self.gesture, "score": round(float(self.score), 6), "hands": list(self.hands)}


@dataclass(frozen=True)
class GestureEvent:
    """What leaves gesturekit: a phase of a gesture.

    The canonical JSON form (:meth:`to_dict`) is the same on every sink; its JSON Schema is
    in ``docs/event.schema.json``. Every field is checked when the event is built (an
    :class:`~gesturekit.InputError` otherwise), so :meth:`to_json` is always strict JSON.

    ``hands`` holds ``{"id": track id, "handedness": "left" | "right" | "unknown"}`` mappings
    (``"unknown"`` when the hand is not in the frame).
    """

    gesture: str
    phase: Literal["start", "hold", "update", "end", "pulse"]
    t: float
    seq: int
    hands: tuple[Mapping[str, Any], ...] = ()
    score: float = 1.0
    values: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    frame: int = 0
    text: str = ""

    def __post_init__(self) -> None:
        _name(self.gesture, "GestureEvent.gesture")
        _text(self.text, "GestureEvent.text")
        if self.phase not in PHASES:
            raise InputError(f"phase must be one of {PHASES}, got {_short(self.phase)}")
        object.__setattr__(self, "t", _finite(self.t, "GestureEvent.t"))
        object.__setattr__(self, "seq", _count(self.seq, "GestureEvent.seq"))
        hands = []
        for h in _sequence(self.hands, "GestureEvent.hands"):
            if not isinstance(h, Mapping) or "id" not in h or "handedness" not in h:
                raise InputError(f"GestureEvent.hands must hold {{'id', 'handedness'}} mappings, got {_short(h)}")
            if h["handedness"] not in _EVENT_HANDEDNESS:
                raise InputError(f"GestureEvent.hands[].handedness must be one of {_EVENT_HANDEDNESS}, "
                                 f"got {_short(h['handedness'])}")
            hands.append(dict(h, id=_count(h["id"], "GestureEvent.hands[].id")))
        object.__setattr__(self, "hands", tuple(hands))
        object.__setattr__(self, "score", _finite(self.score, "GestureEvent.score", 0, 1))
        object.__setattr__(self, "values", _values(self.values, "GestureEvent.values"))
        if not isinstance(self.source, str):
            raise InputError(f"GestureEvent.source must be a string, got {_short(self.source)}")
        object.__setattr__(self, "frame", _count(self.frame, "GestureEvent.frame"))

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form."""
        return {
            "gesture": self.gesture,
            "phase": self.phase,
            "t": round(float(self.t), 6),
            "seq": int(self.seq),
            "hands": [{"id": int(h["id"]), "handedness": h["handedness"]} for h in self.hands],
            "score": round(float(self.score), 6),
            "values": {k: float(v) for k, v in self.values.items()},
            "source": self.source,
            "frame": int(self.frame),
            **({"text": self.text} if self.text else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GestureEvent:
        return cls(
            gesture=d["gesture"], phase=d["phase"], t=d["t"], seq=d["seq"],
            hands=d.get("hands", ()), score=d.get("score", 1.0),
            values=d.get("values", {}), source=d.get("source", ""), frame=d.get("frame", 0),
            text=d.get("text", ""),
        )

    def to_json(self) -> str:
        """One line of canonical, strict JSON (never ``NaN`` or ``Infinity``)."""
        return json.dumps(self.to_dict(), separators=(",", ":"), allow_nan=False)


@dataclass(frozen=True)
class TemporalSpec:
    """Timing of one gesture (all in seconds on the source clock).

    :param min_duration: a static detection must persist this long before ``start``
        (``0`` = start on the first frame it is detected).
    :param hold_interval: ``hold`` repeats at this interval while active (``0`` = no hold).
    :param update_interval: ``update`` (values changed) at most this often (``0`` = never).
    :param release: grace period without a detection before ``end``.
    :param cooldown: after ``end`` (or a ``pulse``), the gesture cannot start again for this long.
    :param update_threshold: a value must change by more than this (absolute) to count as a
        change for ``update`` (``0`` = any change).
    """

    min_duration: float = 0.1
    hold_interval: float = 0.5
    update_interval: float = 0.1
    release: float = 0.2
    cooldown: float = 0.0
    update_threshold: float = 0.0

    def __post_init__(self) -> None:
        for name in ("min_duration", "hold_interval", "update_interval", "release", "cooldown", "update_threshold"):
            v = getattr(self, name)
            if not isinstance(v, (int, float)) or v != v or v < 0:
                raise ValueError(f"TemporalSpec.{name} must be a number >= 0, got {v!r}")
