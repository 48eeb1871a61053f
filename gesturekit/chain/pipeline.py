"""The per-frame pipeline: source items -> tracker -> classifiers -> temporal engine -> events.

It has no I/O of its own: it takes source items in and gives Frames and GestureEvents out;
the CLI and the daemon wrap sources, recorders and sinks around it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import pluggy

from gesturekit.chain.guard import PluginFailures, check_detections
from gesturekit.sources.base import SourceItem
from gesturekit.tracking import Tracker, TrackerOptions
from gesturekit.values import Detection, Frame, GestureEvent

__all__ = ["Pipeline", "PipelineResult", "Classifier", "TemporalEngineLike"]



class Classifier(Protocol):
    """What a classifier factory returns."""

    def classify(self, frame: Frame) -> list[Detection]: ...


class TemporalEngineLike(Protocol):
    """Turns per-frame Detections into GestureEvents with start/hold/update/end/pulse phases."""

    def update(self, frame: Frame, detections: list[Detection]) -> list[GestureEvent]: ...

    def finish(self, t: float) -> list[GestureEvent]: ...


@dataclass
class PipelineResult:
    """The pipeline's output for one frame."""

    frame: Frame
    detections: list[Detection] = field(default_factory=list)
    events: list[GestureEvent] = field(default_factory=list)
    #: True for the last result, which only carries the ``end`` events of gestures still
    #: active when the source ended (its ``frame`` repeats the last frame).
    tail: bool = False


class Pipeline:
    """Runs frames through the tracker, every classifier and the temporal engine.

    :param pm: the plugin manager (its ``gesturekit_classify`` and ``gesturekit_frame`` hooks
        are called, each plugin isolated from the others' failures).
    :param tracker_options: options for the tracker, created on the first image.
    :param classifiers: named classifier objects built from config.
    :param engine: the temporal engine; without one no events are produced.
    :param observers: named frame observers (objects with ``observe(frame, detections)``).

    Hooks are called through pluggy; every implementation, classifier and observer is isolated
    by the plugin manager's :class:`~gesturekit.chain.guard.PluginFailures` (one per process).
    """

    def __init__(self, pm: pluggy.PluginManager, tracker_options: TrackerOptions | None = None,
                 classifiers: dict[str, Classifier] | None = None,
                 engine: TemporalEngineLike | None = None, source_name: str = "",
                 observers: dict[str, Any] | None = None) -> None:
        self.pm = pm
        self.tracker_options = (tracker_options or TrackerOptions()).resolved(live=False)
        self.classifiers: dict[str, Classifier] = dict(classifiers or {})
        self.observers: dict[str, Any] = dict(observers or {})
        self.engine = engine
        self.source_name = source_name
        self._tracker: Tracker | None = None
        self.plugin_failures: PluginFailures = getattr(pm, "failures", None) or PluginFailures()

    @property
    def tracker(self) -> Tracker:
        if self._tracker is None:
            self._tracker = Tracker(self.tracker_options)
        return self._tracker

    def frame_for(self, item: SourceItem) -> Frame:
        """Track one source item (a recorded Frame passes through untouched)."""
        if item.frame is not None:
            return item.frame
        return self.tracker.process(item.image, t=item.t, index=item.index, source=item.name or self.source_name)

    def classify(self, frame: Frame) -> list[Detection]:
        """All detections for ``frame``: hook implementations, then configured classifiers."""
        detections: list[Detection] = []
        for out in self.pm.hook.gesturekit_classify(frame=frame):
            detections.extend(d for d in (out or ()) if isinstance(d, Detection))  # wrappers are checked too
        call = self.plugin_failures.call
        for name, clf in self.classifiers.items():
            out = call(name, "classify", clf.classify, frame, check=lambda o: check_detections(o, frame))
            if out:
                detections.extend(out)
        return detections

    def process(self, frame: Frame) -> PipelineResult:
        """Classify a Frame, update the engine, notify observers."""
        detections = self.classify(frame)
        events = self.engine.update(frame, detections) if self.engine is not None else []
        self.pm.hook.gesturekit_frame(frame=frame, detections=detections)
        call = self.plugin_failures.call
        for name, obs in self.observers.items():
            call(name, "observe", obs.observe, frame, detections)
        return PipelineResult(frame, detections, events)

    def reset(self) -> None:
        """Forget all per-track state: the tracker's ids, every classifier's history (those with a
        ``reset()`` method) and the temporal engine's tracks. Used between unrelated images."""
        if self._tracker is not None:
            self._tracker.reset()
        self._call_classifiers("reset")
        if self.engine is not None:
            self.engine.reset()

    def step(self, item: SourceItem) -> PipelineResult:
        """One source item: tracked, classified, through the engine. In image mode (independent
        still images) the image starts from a clean state and its gestures end with it."""
        per_image = self.tracker_options.mode == "image"
        if per_image:
            self.reset()
        frame = self.frame_for(item)
        result = self.process(frame)
        if per_image and self.engine is not None:
            result.events.extend(self.engine.finish(frame.t))
        return result

    def run(self, items: Iterable[SourceItem], max_frames: int | None = None) -> Iterator[PipelineResult]:
        """Process source items until they end or ``max_frames`` were processed; the engine's
        still-active gestures get their ``end`` in a last result.

        In image mode (independent still images) every image starts from a clean state and its
        gestures end with it: each result carries the image's ``start`` and ``end`` events.
        """
        n = 0
        last: Frame | None = None
        for item in items:
            if max_frames is not None and n >= max_frames:
                break
            result = self.step(item)
            last = result.frame
            yield result
            n += 1
        if self.tracker_options.mode == "image":
            return
        if self.engine is not None and last is not None:
            tail = self.engine.finish(last.t)
            if tail:
                yield PipelineResult(last, [], tail, tail=True)

    def startup(self) -> None:
        """Call every plugin's ``gesturekit_startup`` (each isolated from the others' failures)."""
        self.pm.hook.gesturekit_startup()

    def shutdown(self) -> None:
        """Call every plugin's ``gesturekit_shutdown`` (each isolated from the others' failures)."""
        self.pm.hook.gesturekit_shutdown()

    def notify_events(self, events: Iterable[GestureEvent]) -> None:
        """Hand each event to the plugins implementing ``gesturekit_event``.

        The daemon's bus does this for sink factories; front ends without a bus (``run``,
        ``demo``) call this so that light-weight event hooks work everywhere.
        """
        hook = self.pm.hook.gesturekit_event
        for ev in events:
            hook(event=ev)

    def failures(self) -> dict[str, int]:
        """Error counts per plugin, classifier and observer so far (this process)."""
        return dict(self.plugin_failures.errors)

    def close(self) -> None:
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None
        self._call_classifiers("close")
        for name, obs in self.observers.items():
            func = getattr(obs, "close", None)
            if callable(func):
                self.plugin_failures.call(name, "close", func)

    def _call_classifiers(self, method: str) -> None:
        """Call an optional method (``reset``, ``close``) of every classifier, each isolated: a
        plugin's failure is logged with its name and never masks the real outcome."""
        for name, obj in self.classifiers.items():
            func = getattr(obj, method, None)
            if callable(func):
                self.plugin_failures.call(name, method, func)

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
