"""The ``annotate`` frame observer: the input video with hand skeletons, track ids, handedness and
the active gestures (with their values) drawn on every frame (``run --annotate OUT.mp4``).

Config::

    observers:
      video: {type: annotate, path: annotated.mp4}

The output has one frame per input frame, at the input's rate. Which gestures are active comes
from the chain's GestureEvents (the ``gesturekit_event`` hook). A frame's events are sent out
after its observers ran, so each frame is drawn when the next one arrives (or when the chain
closes), with its own events applied: the drawing matches what the sinks got for that frame.
A replayed landmark recording (no pixels) is drawn on a dark canvas.
"""

from __future__ import annotations

import threading
import weakref

from pydantic import Field

from gesturekit import (
    ConfigError,
    ConfigPath,
    Detection,
    Frame,
    GestureEvent,
    InputError,
    PluginOptions,
    hookimpl,
    options,
)
from gesturekit.render import AnnotatedVideo, GestureState, fourcc_for


class AnnotateOptions(PluginOptions):
    path: ConfigPath = Field(description="the video file to write (.mp4, .avi, .mkv, .mov or .webm; replaced if "
                                         "it exists)")
    fps: float | None = Field(None, gt=0, le=1000, description="frames per second of the output (default: the "
                                                              "source's, measured from its timestamps)")
    title: str = Field("", max_length=200, description="a line drawn at the top of every frame")


# Observers that take events, per thread: a chain's events are emitted in the thread that ran its
# observers, so concurrent chains (tests, a daemon reload) never see each other's events.
_local = threading.local()


def _live() -> weakref.WeakSet:
    live = getattr(_local, "observers", None)
    if live is None:
        live = _local.observers = weakref.WeakSet()
    return live


@options(AnnotateOptions)
class AnnotateObserver:
    """Writes every Frame, drawn with :func:`gesturekit.render.draw_frame`, to ``path``."""

    def __init__(self, opts: AnnotateOptions) -> None:
        try:  # a bad file name fails when the chain is built
            fourcc_for(opts.path)
            self.video = AnnotatedVideo(opts.path, fps=opts.fps, title=opts.title)
        except InputError as e:
            raise ConfigError(str(e), field="path") from None
        self.state = GestureState()
        self._pending: Frame | None = None

    @property
    def frames(self) -> int:
        """Frames written so far."""
        return self.video.written

    def observe(self, frame: Frame, detections: list[Detection]) -> None:
        live = _live()
        if self not in live:
            live.add(self)
        self._flush()
        self._pending = frame

    def event(self, event: GestureEvent) -> None:
        self.state.apply((event,))

    def _flush(self) -> None:
        if self._pending is not None:
            fr, self._pending = self._pending, None
            self.video.add(fr, self.state.active(fr.t))

    def close(self) -> None:
        _live().discard(self)
        try:
            self._flush()
        finally:
            self.video.close()


@hookimpl
def gesturekit_event(event: GestureEvent) -> None:
    for obs in list(_live()):
        obs.event(event)


@hookimpl(trylast=True)
def gesturekit_register_observers() -> dict:
    return {"annotate": AnnotateObserver}
