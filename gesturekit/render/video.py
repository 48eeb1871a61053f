"""Writing annotated video: :class:`AnnotatedVideo` draws every Frame with the overlay and writes
it at the source's frame rate, one output frame per input frame.

The frame rate is the ``fps`` given, or else measured from the first frames' timestamps (media
time ``index / fps`` for files, so a 25 fps file gives exactly 25). Frames are held until the rate
is known (at most :data:`RATE_FRAMES`), then written as they come.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from gesturekit._exceptions import InputError
from gesturekit.render.overlay import ActiveGesture, draw_frame
from gesturekit.values import Frame

__all__ = ["AnnotatedVideo", "fourcc_for", "RATE_FRAMES"]

#: Frames whose timestamps measure the frame rate when none is given.
RATE_FRAMES = 10
_CODECS = {".mp4": "mp4v", ".m4v": "mp4v", ".mov": "mp4v", ".mkv": "mp4v", ".avi": "MJPG", ".webm": "VP80"}


def fourcc_for(path: str) -> str:
    """The codec written for a file name (``.mp4`` -> MPEG-4 ``mp4v``, ``.avi`` -> ``MJPG``)."""
    ext = os.path.splitext(path)[1].lower()
    if ext not in _CODECS:
        raise InputError(f"cannot write video {path}: use a name ending in "
                         f"{', '.join(sorted(_CODECS))}")
    return _CODECS[ext]


def _measured_rate(times: Sequence[float]) -> float:
    if len(times) < 2 or times[-1] <= times[0]:
        return 25.0
    fps = (len(times) - 1) / (times[-1] - times[0])
    return float(round(fps, 3)) if 1.0 <= fps <= 1000.0 else 25.0


class AnnotatedVideo:
    """Draws Frames with :func:`~gesturekit.render.overlay.draw_frame` into a video file.

    :param path: ``.mp4`` (MPEG-4), ``.avi`` (MJPG), ``.mkv``, ``.mov`` or ``.webm``.
    :param fps: the output rate; ``None``: measured from the frames' timestamps.
    :param title: a line drawn at the top of every frame.

    Every frame has the size of the first; a frame of another size is scaled to it.
    """

    def __init__(self, path: str, fps: float | None = None, title: str = "") -> None:
        self.path, self.fps, self.title = str(path), fps, title
        self.fourcc = fourcc_for(self.path)
        parent = os.path.dirname(os.path.abspath(self.path))
        if not os.path.isdir(parent):
            raise InputError(f"cannot write video {self.path}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise InputError(f"cannot write video {self.path}: folder {parent} is not writable")
        self._writer: cv2.VideoWriter | None = None
        self._held: list[np.ndarray] = []
        self._times: list[float] = []
        self._size: tuple[int, int] | None = None
        self.written = 0

    def add(self, frame: Frame, active: Sequence[ActiveGesture] = (), lines: Iterable[str] = (),
            image: np.ndarray | None = None) -> np.ndarray:
        """Draw ``frame`` (on ``image``, else its own image, else a dark canvas) and write it."""
        drawn = draw_frame(image if image is not None else frame.image, frame, active, title=self.title,
                           lines=list(lines))
        if self._size is None:
            self._size = (drawn.shape[1], drawn.shape[0])
        elif (drawn.shape[1], drawn.shape[0]) != self._size:
            drawn = cv2.resize(drawn, self._size, interpolation=cv2.INTER_AREA)
        if self._writer is None:
            self._held.append(drawn)
            self._times.append(frame.t)
            if self.fps is not None or len(self._held) >= RATE_FRAMES:
                self._open()
        else:
            self._write(drawn)
        return drawn

    def _open(self) -> None:
        if self.fps is None:
            self.fps = _measured_rate(self._times)
        assert self._size is not None
        self._writer = cv2.VideoWriter(self.path, cv2.VideoWriter_fourcc(*self.fourcc), float(self.fps), self._size)
        if not self._writer.isOpened():
            self._writer = None
            self._held.clear()
            raise InputError(f"cannot write video {self.path} (OpenCV could not open a {self.fourcc} writer)")
        held, self._held = self._held, []
        for img in held:
            self._write(img)

    def _write(self, img: np.ndarray) -> None:
        assert self._writer is not None
        self._writer.write(img)
        self.written += 1

    def close(self) -> None:
        """Write what is held and finish the file (a video with no frame is not created)."""
        if self._writer is None and self._held:
            self._open()
        if self._writer is not None:
            self._writer.release()
            self._writer = None

    def __enter__(self) -> AnnotatedVideo:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
