"""The core values that flow through gesturekit: Hand, Frame, Detection, GestureEvent.

They are immutable (frozen dataclasses, read-only numpy arrays) and serialize to one
canonical JSON form each (``to_dict`` / ``from_dict``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

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


def _frozen_array(a: Any, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.array(a, dtype=np.float64)  # copy: the value must not alias caller memory
    if arr.shape != shape:
        raise ValueError(f"expected an array of shape {shape}, got {arr.shape}")
    arr.flags.writeable = False
    return arr


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
    """

    track_id: int
    handedness: Handedness
    handedness_score: float
    score: float
    keypoints: np.ndarray
    keypoints3d: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "keypoints", _frozen_array(self.keypoints, (21, 2)))
        object.__setattr__(self, "keypoints3d", _frozen_array(self.keypoints3d, (21, 3)))
        if self.handedness not in ("left", "right"):
            raise ValueError(f"handedness must be 'left' or 'right', got {self.handedness!r}")

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
            track_id=int(d["id"]),
            handedness=d["handedness"],
            handedness_score=float(d["handedness_score"]),
            score=float(d["score"]),
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
        object.__setattr__(self, "hands", tuple(self.hands))

    def to_dict(self, ndigits: int | None = 6) -> dict[str, Any]:
        """The canonical JSON form of the frame (without the image)."""
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
            index=int(d["index"]),
            t=float(d["t"]),
            width=int(d["width"]),
            height=int(d["height"]),
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
    """

    gesture: str
    score: float = 1.0
    hands: tuple[int, ...] = ()
    values: Mapping[str, float] = field(default_factory=dict)
    kind: Literal["static", "pulse"] = "static"

    def to_dict(self) -> dict[str, Any]:
        return {"gesture": self.gesture, "score": round(float(self.score), 6), "hands": list(self.hands)}


@dataclass(frozen=True)
class GestureEvent:
    """What leaves gesturekit: a phase of a gesture.

    The canonical JSON form (:meth:`to_dict`) is the same on every sink; its JSON Schema is
    in ``docs/event.schema.json``.
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

    def __post_init__(self) -> None:
        if self.phase not in PHASES:
            raise ValueError(f"phase must be one of {PHASES}, got {self.phase!r}")
        object.__setattr__(self, "hands", tuple(dict(h) for h in self.hands))

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
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> GestureEvent:
        return cls(
            gesture=d["gesture"], phase=d["phase"], t=float(d["t"]), seq=int(d["seq"]),
            hands=tuple(d.get("hands", ())), score=float(d.get("score", 1.0)),
            values=dict(d.get("values", {})), source=d.get("source", ""), frame=int(d.get("frame", 0)),
        )

    def to_json(self) -> str:
        """One line of canonical JSON."""
        import json

        return json.dumps(self.to_dict(), separators=(",", ":"))


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
