"""The temporal engine: per-frame Detections -> GestureEvents with start/hold/update/end/pulse.

Shared by rule-based and learned classifiers, so every gesture gets debouncing, hold repeats,
release grace and cooldowns. A classifier may expose ``temporal_specs() -> dict[str,
TemporalSpec]`` to set per-gesture timing; other gestures use the engine's default spec.

A *track* is one gesture on one set of hands (``("zoom_in", (1, 2))``). For a static
detection the track goes::

    idle --detected--> pending --detected for min_duration--> active (start)
    active --detected--> hold every hold_interval, update when values change
    active --not detected for release--> idle (end), then cooldown

A ``pulse`` detection (a completed swipe) gives one ``pulse`` event, then its track is in
cooldown. Within one frame, events come in this order: ``end`` (tracks released), then per
detection (in the order the classifiers reported them) ``start`` / ``update`` / ``hold`` /
``pulse``. ``seq`` counts every event the engine emits, from 0.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from gesturekit.values import Detection, Frame, GestureEvent, TemporalSpec

__all__ = ["TemporalEngine"]

log = logging.getLogger("gesturekit.temporal")

#: Tolerance for comparing times on the source clock (frame times are often sums of 1/fps).
_EPS = 1e-9


@dataclass
class _Track:
    """Mutable state of one (gesture, hands) track."""

    gesture: str
    hands: tuple[dict, ...]
    since: float | None = None  # start of the current continuous detection (pending or active)
    last_seen: float = 0.0
    active: bool = False
    next_hold: float = 0.0
    last_update: float = 0.0
    emitted: dict[str, float] = field(default_factory=dict)  # values as last sent
    score: float = 1.0
    values: dict[str, float] = field(default_factory=dict)
    text: str = ""
    emitted_text: str = ""
    cooldown_until: float = float("-inf")


class TemporalEngine:
    """Turns per-frame :class:`Detection` lists into :class:`GestureEvent` phases.

    :param specs: per-gesture timing; gestures not named use ``default``.
    :param default: timing for gestures without their own spec.
    :param source: the ``source`` written on events (default: each frame's ``source``).
    :param seq: the ``seq`` of the first event (an engine that takes over from another goes on
        counting where that one stopped, see :attr:`next_seq`).

    Feed it every frame in order with :meth:`update` (also frames without detections: time
    passing is what ends gestures), and call :meth:`finish` when the source ends.
    """

    def __init__(self, specs: Mapping[str, TemporalSpec] | None = None, default: TemporalSpec = TemporalSpec(),
                 source: str = "", seq: int = 0) -> None:
        self.specs: dict[str, TemporalSpec] = dict(specs or {})
        self.default = default
        self.source = source
        self._tracks: dict[tuple[str, tuple[int, ...]], _Track] = {}
        self._seq = int(seq)
        self._last_frame: Frame | None = None

    # -- configuration -------------------------------------------------------------------
    def set_specs(self, specs: Mapping[str, TemporalSpec], default: TemporalSpec | None = None) -> None:
        """Replace the per-gesture specs (and optionally the default); running tracks keep going
        under the new timing."""
        self.specs = dict(specs)
        if default is not None:
            self.default = default

    @property
    def next_seq(self) -> int:
        """The ``seq`` the next event gets."""
        return self._seq

    @next_seq.setter
    def next_seq(self, value: int) -> None:
        self._seq = int(value)

    def spec_for(self, gesture: str) -> TemporalSpec:
        """The timing used for ``gesture``."""
        return self.specs.get(gesture, self.default)

    @property
    def active(self) -> list[tuple[str, tuple[int, ...]]]:
        """The (gesture, hands) tracks that are started and not yet ended."""
        return [k for k, tr in self._tracks.items() if tr.active]

    def reset(self) -> None:
        """Forget every track and cooldown (``seq`` keeps counting)."""
        self._tracks.clear()
        self._last_frame = None

    # -- per frame -----------------------------------------------------------------------
    def update(self, frame: Frame, detections: Sequence[Detection]) -> list[GestureEvent]:
        """Advance to ``frame`` given its detections; returns the events of this frame."""
        t = float(frame.t)
        self._last_frame = frame
        events: list[GestureEvent] = []

        # One detection per track: when several classifiers report the same one, the best wins.
        seen: dict[tuple[str, tuple[int, ...]], Detection] = {}
        for d in detections:
            key = (d.gesture, tuple(sorted(d.hands)))
            prev = seen.get(key)
            if prev is None or d.score > prev.score:
                seen[key] = d

        # Tracks not detected in this frame: release active ones after the grace period,
        # drop pending ones (start needs continuous detection), forget idle ones out of cooldown.
        for key in list(self._tracks):
            if key in seen:
                continue
            tr = self._tracks[key]
            if tr.active:
                if t - tr.last_seen >= self.spec_for(tr.gesture).release - _EPS:
                    events.append(self._event(tr, "end", frame))
                    self._deactivate(tr, t)
            else:
                tr.since = None
                if t >= tr.cooldown_until:
                    del self._tracks[key]

        if seen:
            handedness = {h.track_id: h.handedness for h in frame.hands}
            for key, d in seen.items():
                tr = self._tracks.get(key)
                if tr is None:
                    hands = tuple({"id": int(i), "handedness": handedness.get(i, "unknown")} for i in d.hands)
                    tr = self._tracks[key] = _Track(d.gesture, hands)
                else:
                    for h in tr.hands:  # a label may flip while tracked; report the current one
                        h["handedness"] = handedness.get(h["id"], h["handedness"])
                self._step(tr, d, t, frame, events)
        return events

    def _step(self, tr: _Track, d: Detection, t: float, frame: Frame, events: list[GestureEvent]) -> None:
        spec = self.spec_for(tr.gesture)
        tr.score = float(d.score)
        tr.values = {k: float(v) for k, v in d.values.items()}
        tr.text = d.text
        if d.kind == "pulse":
            if tr.active:  # a classifier that reported the same name as static before: close it
                events.append(self._event(tr, "end", frame))
                self._deactivate(tr, t)
            if t >= tr.cooldown_until - _EPS:
                events.append(self._event(tr, "pulse", frame))
                tr.cooldown_until = t + spec.cooldown
            tr.since = None
            return
        if not tr.active:
            if t < tr.cooldown_until - _EPS:
                return
            if tr.since is None:
                tr.since = t
            tr.last_seen = t
            if t - tr.since >= spec.min_duration - _EPS:
                tr.active = True
                tr.next_hold = t + spec.hold_interval
                tr.last_update = t
                tr.emitted, tr.emitted_text = dict(tr.values), tr.text
                events.append(self._event(tr, "start", frame))
            return
        tr.last_seen = t
        if tr.text != tr.emitted_text or (
                spec.update_interval > 0 and t - tr.last_update >= spec.update_interval - _EPS
                and _changed(tr.emitted, tr.values, spec.update_threshold)):
            tr.last_update = t
            tr.emitted, tr.emitted_text = dict(tr.values), tr.text
            events.append(self._event(tr, "update", frame))
        if spec.hold_interval > 0 and t >= tr.next_hold - _EPS:
            events.append(self._event(tr, "hold", frame))
            tr.next_hold += spec.hold_interval
            if tr.next_hold <= t + _EPS:  # frames were sparse: no burst of catch-up holds
                tr.next_hold = t + spec.hold_interval

    def finish(self, t: float) -> list[GestureEvent]:
        """End every active gesture at time ``t`` (the source ended); pending ones are dropped
        and cooldowns forgotten, so the engine can take a new source."""
        frame = self._last_frame
        events = []
        for tr in self._tracks.values():
            if tr.active:
                events.append(self._event(tr, "end", frame, t=t))
        self._tracks.clear()
        return events

    # -- helpers -------------------------------------------------------------------------
    def _deactivate(self, tr: _Track, t: float) -> None:
        tr.active = False
        tr.since = None
        tr.cooldown_until = t + self.spec_for(tr.gesture).cooldown

    def _event(self, tr: _Track, phase: str, frame: Frame | None, t: float | None = None) -> GestureEvent:
        ev = GestureEvent(
            gesture=tr.gesture,
            phase=phase,  # type: ignore[arg-type]
            t=float(t if t is not None else (frame.t if frame is not None else 0.0)),
            seq=self._seq,
            hands=tuple(dict(h) for h in tr.hands),
            score=tr.score,
            values=dict(tr.values),
            source=self.source or (frame.source if frame is not None else ""),
            frame=frame.index if frame is not None else 0,
            text=tr.text,
        )
        self._seq += 1
        return ev


def _changed(old: Mapping[str, float], new: Mapping[str, float], threshold: float) -> bool:
    if old.keys() != new.keys():
        return True
    return any(abs(new[k] - old[k]) > threshold for k in new) if threshold > 0 else old != new
