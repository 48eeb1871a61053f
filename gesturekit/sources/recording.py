"""Landmark recordings: JSON lines of Frames (written by ``run --record-landmarks``).

A recording starts with a header line ``{"format": "gesturekit.frames/1", ...}`` (files written
with ``--frames-jsonl`` have none). Every line is strict JSON: a recording with ``NaN`` or
infinite keypoints, an unknown ``format``, or no line at all is refused with a
:class:`~gesturekit.SourceError` naming the file (and the line).
"""

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
            self._f.write(json.dumps({"format": RECORDING_FORMAT, "created": time.time()}, allow_nan=False) + "\n")

    def write(self, frame: Frame) -> None:
        self._f.write(json.dumps(frame.to_dict(self.ndigits), separators=(",", ":"), allow_nan=False) + "\n")

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _NonFinite(ValueError):
    pass


def _refuse_constant(name: str) -> float:
    raise _NonFinite(name)


def _short(v: object) -> str:
    r = repr(v)
    return r if len(r) <= 60 else r[:57] + "..."


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
        lines = 0
        with f:
            try:
                for n, line in enumerate(f, 1):
                    if not line.strip():
                        continue
                    lines += 1
                    try:
                        d = json.loads(line, parse_constant=_refuse_constant)
                    except _NonFinite as e:
                        raise SourceError(f"{self.path}:{n}: {e} is not allowed in a landmark recording "
                                          "(keypoints must be finite numbers)") from None
                    except ValueError as e:
                        raise SourceError(f"{self.path}:{n}: not a gesturekit landmark recording line "
                                          f"(not JSON: {e})") from None
                    if isinstance(d, dict) and "format" in d and "index" not in d:
                        if d["format"] != RECORDING_FORMAT:
                            raise SourceError(f"{self.path}:{n}: unknown recording format {_short(d['format'])} "
                                              f"(this gesturekit reads {RECORDING_FORMAT})")
                        continue
                    try:
                        if not isinstance(d, dict):
                            raise TypeError(f"a JSON {type(d).__name__}, not an object")
                        yield Frame.from_dict(d)
                    except (ValueError, KeyError, TypeError) as e:
                        what = f"missing key {e}" if isinstance(e, KeyError) else str(e)
                        raise SourceError(f"{self.path}:{n}: not a gesturekit landmark recording line "
                                          f"({what})") from None
            except UnicodeDecodeError:
                raise SourceError(f"{self.path}: not a gesturekit landmark recording (not UTF-8 text)") from None
        if lines == 0:
            raise SourceError(f"{self.path}: empty landmark recording (no header, no frames)")

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
