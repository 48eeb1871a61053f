"""The ``landmarks`` frame observer: every tracked Frame as one JSON line (a landmark recording).

``run --record-landmarks FILE`` (full precision, replayable with ``--source FILE``) and
``run --frames-jsonl FILE`` (rounded, no header) are this observer. Config::

    observers:
      rec: {type: landmarks, path: session.jsonl}

Uses only gesturekit's public API.
"""

from __future__ import annotations

from pydantic import Field

from gesturekit import ConfigPath, Detection, Frame, PluginOptions, hookimpl, options
from gesturekit.sources.recording import FrameWriter


class LandmarksOptions(PluginOptions):
    path: ConfigPath = Field(description="the JSON-lines file to write (replaced if it exists)")
    precision: int | None = Field(None, ge=0, le=12, description="decimals kept of pixel keypoints; unset: all "
                                                                 "(a replayable recording)")
    header: bool = Field(True, description="start with a header line naming the recording format")


@options(LandmarksOptions)
class LandmarksObserver:
    """Writes each Frame with its hands (never the image) to ``path``."""

    def __init__(self, opts: LandmarksOptions) -> None:
        self._writer = FrameWriter(opts.path, ndigits=opts.precision, header=opts.header)

    def observe(self, frame: Frame, detections: list[Detection]) -> None:
        self._writer.write(frame)

    def close(self) -> None:
        self._writer.close()


@hookimpl(trylast=True)
def gesturekit_register_observers() -> dict:
    return {"landmarks": LandmarksObserver}
