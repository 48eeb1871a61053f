"""Motions of synthetic hands over time, rendered to :class:`~gesturekit.Frame` sequences.

A :class:`Timeline` is a list of segments at a fixed frame rate; each segment says, per hand,
which pose it holds or blends to and where the wrist is or moves to. Helpers build the usual
motions: pose transitions, swipes and two hands moving apart or together.

Directions here are *image* directions (``"left"`` = toward smaller x in the image).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np

from gesturekit.values import Frame
from synthetic._hand import Camera, HandPose, Skeleton, WristPose, make_frame, render_hand
from synthetic._poses import canonical_wrist, pose

__all__ = ["HandState", "Timeline", "min_jerk", "IMAGE_DIRECTIONS"]

#: Image direction -> unit (dx, dy) in the camera frame (y down).
IMAGE_DIRECTIONS: dict[str, tuple[float, float]] = {
    "left": (-1.0, 0.0), "right": (1.0, 0.0), "up": (0.0, -1.0), "down": (0.0, 1.0)}


def min_jerk(s: np.ndarray | float) -> np.ndarray | float:
    """The minimum-jerk profile 0 -> 1 for ``s`` in [0, 1] (how people move a hand)."""
    s = np.clip(s, 0.0, 1.0)
    return s ** 3 * (10 - 15 * s + 6 * s ** 2)


@dataclass(frozen=True)
class HandState:
    """One hand at one instant: who it is, its pose and where its wrist is."""

    track_id: int
    handedness: str
    pose: HandPose
    wrist: WristPose

    @classmethod
    def named(cls, name: str, track_id: int = 0, handedness: str = "right", x: float = 0.0, y: float = 0.0,
              z: float = 0.5) -> HandState:
        """A named pose held canonically with its centre at (x, y, z)."""
        return cls(track_id, handedness, pose(name), canonical_wrist(name, x, y, z, handedness))

    def blend(self, other: HandState, w: float) -> HandState:
        """Interpolate pose (joint space) and wrist (position and angles)."""
        a, b = self.wrist, other.wrist
        wrist = WristPose(*(getattr(a, k) + (getattr(b, k) - getattr(a, k)) * w
                            for k in ("x", "y", "z", "roll", "pitch", "yaw")))
        return replace(self, pose=self.pose.blend(other.pose, w), wrist=wrist)


@dataclass(frozen=True)
class _Segment:
    start: tuple[HandState, ...]
    end: tuple[HandState, ...]
    duration: float
    label: str


class Timeline:
    """Segments of hand states sampled at ``fps``.

    Each segment blends every hand from its start state to its end state with the
    minimum-jerk profile (a hold is a segment whose start and end are equal). Hands present in
    one segment and not the next simply disappear, as they do for the tracker.
    """

    def __init__(self, fps: float = 15.0) -> None:
        self.fps = fps
        self.segments: list[_Segment] = []

    @property
    def duration(self) -> float:
        """Total length in seconds."""
        return sum(s.duration for s in self.segments)

    @property
    def last(self) -> tuple[HandState, ...]:
        """The hands at the end of the timeline so far."""
        return self.segments[-1].end if self.segments else ()

    def hold(self, hands: tuple[HandState, ...] | HandState, duration: float, label: str = "") -> Timeline:
        """Keep ``hands`` still for ``duration`` seconds."""
        hands = (hands,) if isinstance(hands, HandState) else tuple(hands)
        self.segments.append(_Segment(hands, hands, duration, label))
        return self

    def move(self, to: tuple[HandState, ...] | HandState, duration: float, label: str = "",
             start: tuple[HandState, ...] | HandState | None = None) -> Timeline:
        """Blend from ``start`` (default: where the timeline is) to ``to`` in ``duration`` s."""
        to = (to,) if isinstance(to, HandState) else tuple(to)
        frm = self.last if start is None else ((start,) if isinstance(start, HandState) else tuple(start))
        by_id = {h.track_id: h for h in frm}
        frm = tuple(by_id.get(h.track_id, h) for h in to)
        self.segments.append(_Segment(frm, to, duration, label))
        return self

    def gap(self, duration: float, label: str = "") -> Timeline:
        """No hands in view for ``duration`` seconds."""
        self.segments.append(_Segment((), (), duration, label))
        return self

    def states(self) -> Iterator[tuple[float, str, tuple[HandState, ...]]]:
        """``(t, label, hands)`` for every frame."""
        n = int(round(self.duration * self.fps))
        bounds = np.cumsum([0.0] + [s.duration for s in self.segments])
        for i in range(n):
            t = i / self.fps
            k = min(int(np.searchsorted(bounds, t, side="right")) - 1, len(self.segments) - 1)
            seg = self.segments[k]
            w = float(min_jerk((t - bounds[k]) / seg.duration)) if seg.duration > 0 else 1.0
            yield t, seg.label, tuple(a.blend(b, w) for a, b in zip(seg.start, seg.end, strict=True))

    def frames(self, camera: Camera | None = None, source: str = "synthetic", noise_px: float = 0.0,
               noise_m: float = 0.0, seed: int = 0, skeleton: Skeleton | None = None) -> Iterator[Frame]:
        """Render every frame (seeded noise: the same arguments give the same frames)."""
        cam = camera or Camera()
        rng = np.random.default_rng(seed)
        for i, (t, _label, hands) in enumerate(self.states()):
            rendered = [render_hand(h.pose, h.wrist, h.handedness, cam, h.track_id, skeleton, noise_px, noise_m, rng)
                        for h in hands]
            yield make_frame(i, round(t, 6), rendered, cam, source)

    # -- motions ---------------------------------------------------------------------------
    def transition(self, name: str, duration: float = 0.35, hold: float = 1.0, track_id: int = 0,
                   handedness: str = "right", x: float = 0.0, y: float = 0.0, z: float = 0.5) -> Timeline:
        """Blend to the named pose, then hold it for ``hold`` seconds."""
        target = HandState.named(name, track_id, handedness, x, y, z)
        self.move(target, duration, label=f"-> {name}")
        if hold > 0:
            self.hold(target, hold, label=name)
        return self

    def swipe(self, direction: str, distance: float = 0.24, duration: float = 0.4, pose_name: str = "open_palm",
              track_id: int = 0, handedness: str = "right", z: float = 0.5, settle: float = 0.3,
              label: str = "") -> Timeline:
        """Move a hand ``distance`` metres across the image in ``direction`` (an image
        direction), centred on the optical axis, with a still moment before and after;
        ``label`` names the moving segment (default ``"swipe DIRECTION"``)."""
        dx, dy = IMAGE_DIRECTIONS[direction]
        a = HandState.named(pose_name, track_id, handedness, -dx * distance / 2, -dy * distance / 2, z)
        b = HandState.named(pose_name, track_id, handedness, dx * distance / 2, dy * distance / 2, z)
        self.move(a, 0.4, label=f"to swipe {direction} start")
        self.hold(a, settle, label=f"before swipe {direction}")
        self.move(b, duration, label=label or f"swipe {direction}")
        self.hold(b, settle, label=f"after swipe {direction}")
        return self

    def two_hands(self, pose_name: str, gap_from: float, gap_to: float, duration: float = 0.8,
                  ids: tuple[int, int] = (0, 1), z: float = 0.5, label: str = "") -> Timeline:
        """Two hands side by side (right hand on the image's left, as a person facing an
        unmirrored camera holds them) whose centres move from ``gap_from`` to ``gap_to`` metres
        apart."""

        def pair(gap: float) -> tuple[HandState, ...]:
            return (HandState.named(pose_name, ids[0], "right", -gap / 2, 0.0, z),
                    HandState.named(pose_name, ids[1], "left", gap / 2, 0.0, z))

        self.move(pair(gap_from), 0.3, label=f"{label} ready")
        self.move(pair(gap_to), duration, label=label)
        self.hold(pair(gap_to), 0.3, label=f"{label} done")
        return self
