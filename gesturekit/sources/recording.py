"""Landmark recordings: JSON lines of Frames (written by ``run --record-landmarks``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from typing import IO

from gesturekit._exceptions import SourceError
from gesturekit.sources.base import SourceItem
from gesturekit.values import Frame

__all__ = ["FrameWriter", "ReplaySource", "RECORDING_FORMAT"]

RECORDING_FORMAT = "gesturekit.frames/1"


class FrameWriter:
    """Appends Frames as JSON lines; the first line is a header naming the format.

    :param ndigits: rounding of pixel keypoints; ``None`` keeps full precision (recordings).
    """

    def __init__(self, path: str, ndigits: int | None = None, header: bool = True) -> None:
        try:
            self._f: IO[str] = open(path, "w", encoding="utf-8")
        except OSError as e:
            raise SourceError(f"cannot write {path}: {e.strerror}") from None
        self.ndigits = ndigits
        if header:
            self._f.write(json.dumps({"format": RECORDING_FORMAT, "created": time.time()}) + "\n")

    def write(self, frame: Frame) -> None:
        self._f.write(json.dumps(frame.to_dict(self.ndigits), separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class ReplaySource:
    """Replays a recording: yields the recorded Frames, no camera or MediaPipe needed.

    ``realtime`` paces frames by their recorded ``t``.
    """

    live = False
    mode = "video"

    def __init__(self, path: str, realtime: bool = False) -> None:
        if not os.path.exists(path):
            raise SourceError(f"file not found: {path}")
        self.path, self.realtime = path, realtime
        self.name = os.path.basename(path)
        self.frames = list(self._read())

    def _read(self) -> Iterator[Frame]:
        try:
            f = open(self.path, encoding="utf-8")
        except OSError as e:
            raise SourceError(f"cannot read {self.path}: {e.strerror}") from None
        with f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                    if "format" in d and "index" not in d:
                        continue
                    yield Frame.from_dict(d)
                except (ValueError, KeyError, TypeError) as e:
                    raise SourceError(f"{self.path}:{n}: not a gesturekit landmark recording line ({e})") from None

    def __iter__(self) -> Iterator[SourceItem]:
        start = time.monotonic()
        t0 = self.frames[0].t if self.frames else 0.0
        for fr in self.frames:
            if self.realtime:
                delay = start + (fr.t - t0) - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
            yield SourceItem(fr.index, fr.t, None, frame=fr)

    def close(self) -> None:
        pass
