"""Video files, cameras and network streams through OpenCV (the build mediapipe brings)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator

import cv2

from gesturekit._exceptions import SourceError
from gesturekit.sources.base import SourceItem
from gesturekit.sources.images import check_pixels
from gesturekit.util.native import quiet_native_stderr

__all__ = ["VideoFileSource", "CameraSource", "StreamSource"]

log = logging.getLogger("gesturekit.sources")


def _frame_size(cap: cv2.VideoCapture) -> tuple[int, int]:
    """The stream's frame size as the container declares it (nothing decoded); 0 when unknown."""
    def prop(p: int) -> int:
        v = cap.get(p) or 0.0
        return int(v) if v == v and 0 < v < 1e9 else 0

    return prop(cv2.CAP_PROP_FRAME_WIDTH), prop(cv2.CAP_PROP_FRAME_HEIGHT)


class VideoFileSource:
    """Every frame of a video file; ``t`` is media time. ``realtime`` paces at the file's fps.

    :param max_pixels: refuse a video whose frames are larger than this (width x height), read
        from the container before any frame is decoded; ``None``: the image limit
        (:data:`~gesturekit.sources.images.MAX_IMAGE_PIXELS`), ``0``: no limit.
    """

    live = False
    mode = "video"

    def __init__(self, path: str, realtime: bool = False, max_pixels: int | None = None) -> None:
        if not os.path.exists(path):
            raise SourceError(f"file not found: {path}")
        if not os.access(path, os.R_OK) or os.path.isdir(path):
            raise SourceError(f"cannot read file: {path}")
        self.path, self.realtime = path, realtime
        self.name = os.path.basename(path)
        with quiet_native_stderr():
            cap = cv2.VideoCapture(path)
            opened = cap.isOpened()
            w, h = _frame_size(cap) if opened else (0, 0)
            try:
                check_pixels(w, h, f"{path}: video frames", max_pixels)
            except SourceError:
                cap.release()
                raise
            ok = opened and cap.read()[0]
        self.width, self.height = w, h
        self.fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        self.frame_count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        cap.release()
        if not ok:
            raise SourceError(f"not a readable image or video file: {path}")
        if not 1.0 <= self.fps <= 1000.0:
            self.fps = 30.0

    def __iter__(self) -> Iterator[SourceItem]:
        cap = cv2.VideoCapture(self.path)
        start = time.monotonic()
        index = 0
        try:
            while True:
                ok, img = cap.read()
                if not ok:
                    break
                t = index / self.fps
                if self.realtime:
                    delay = start + t - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                yield SourceItem(index, t, img)
                index += 1
        finally:
            cap.release()

    def close(self) -> None:
        pass


class _LiveCapture:
    """Shared code of cameras and streams: newest frame, capture-clock time, reconnects."""

    live = True
    mode = "video"

    def __init__(self, target: int | str, name: str, reconnect: bool = True, max_backoff: float = 8.0,
                 max_pixels: int | None = None) -> None:
        self.target, self.name, self.reconnect, self.max_backoff = target, name, reconnect, max_backoff
        self.reconnects = 0
        self._cap = self._open()
        if self._cap is None:
            raise SourceError(f"{name} could not be opened")
        w, h = _frame_size(self._cap)
        try:  # the frame size it announces, before a frame is decoded
            check_pixels(w, h, f"{name}: frames", max_pixels)
        except SourceError:
            self._cap.release()
            raise
        self._closed = threading.Event()
        self._iterating = False

    def _open(self) -> cv2.VideoCapture | None:
        with quiet_native_stderr():  # OpenCV prints its own warnings for a missing camera
            cap = cv2.VideoCapture(self.target)
        if not cap.isOpened():
            cap.release()
            return None
        return cap

    def __iter__(self) -> Iterator[SourceItem]:
        index, t0 = 0, time.time()
        backoff = 0.5
        self._iterating = True
        try:
            while not self._closed.is_set():
                ok, img = self._cap.read() if self._cap is not None else (False, None)
                if ok:
                    backoff = 0.5
                    yield SourceItem(index, time.time() - t0, img)
                    index += 1
                    continue
                if self._closed.is_set():
                    break
                if not self.reconnect:
                    raise SourceError(f"{self.name} stopped delivering frames")
                if self._cap is not None:
                    log.warning("%s lost; reconnecting in %.1f s", self.name, backoff)
                else:
                    log.warning("%s still unavailable; retrying in %.1f s", self.name, backoff)
                if self._cap is not None:
                    self._cap.release()
                    self._cap = None
                if self._closed.wait(backoff):  # close() interrupts the wait
                    break
                backoff = min(backoff * 2, self.max_backoff)
                self._cap = self._open()
                if self._cap is not None:
                    self.reconnects += 1
                    log.warning("%s reconnected", self.name)
        finally:
            # Released by the thread that reads it (close() only asks).
            if self._cap is not None:
                self._cap.release()
                self._cap = None

    def close(self) -> None:
        """Ask the reading loop to stop; it releases the device. Releases it here when no loop
        is running."""
        self._closed.set()
        if not self._iterating and self._cap is not None:
            self._cap.release()
            self._cap = None


class CameraSource(_LiveCapture):
    """A local camera by index (``0``). Frames are timestamped with the capture clock."""

    def __init__(self, index: int, reconnect: bool = True) -> None:
        super().__init__(index, f"camera:{index}", reconnect)


class StreamSource(_LiveCapture):
    """An RTSP/HTTP stream URL."""

    def __init__(self, url: str, reconnect: bool = True) -> None:
        super().__init__(url, url.split("@")[-1], reconnect)  # never print credentials
