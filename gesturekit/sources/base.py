"""What every source yields, and the threaded reader that decodes ahead of the tracker."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from gesturekit.values import Frame

__all__ = ["SourceItem", "Source", "ThreadedReader"]


@dataclass(frozen=True)
class SourceItem:
    """One decoded image, or (for a replayed recording) a ready Frame.

    :param index: frame number within the source.
    :param t: seconds on the source's clock.
    :param image: BGR pixels, or ``None`` when ``frame`` is set.
    :param frame: a recorded Frame (replay); the tracker is skipped for it.
    :param name: per-item name (the image file name for image sources).
    """

    index: int
    t: float
    image: np.ndarray | None = field(default=None, repr=False)
    frame: Frame | None = None
    name: str = ""


class Source(Protocol):
    """A source of frames. ``live`` sources drop old frames rather than build latency."""

    name: str
    live: bool
    #: "video" (one stream, tracked over time) or "image" (independent images).
    mode: str
    # Optional: ``prefetch`` (int), the most items decoded ahead of the consumer; a
    # ThreadedReader queues no more than that (image folders: 1, so large images are not all
    # held in memory at once).

    def __iter__(self) -> Iterator[SourceItem]: ...

    def close(self) -> None: ...


_END = object()


class ThreadedReader:
    """Runs ``source`` in its own thread and hands items over through a bounded queue.

    Files never drop a frame (the decoder waits for the tracker). Live sources keep only the
    newest frames: when the queue is full the oldest item is dropped and counted in
    :attr:`dropped`. A source's ``prefetch`` attribute, when it has one, lowers ``maxsize``.
    """

    def __init__(self, source: Source, maxsize: int = 4) -> None:
        self.source = source
        self.dropped = 0
        prefetch = getattr(source, "prefetch", None)
        if isinstance(prefetch, int) and prefetch >= 1:
            maxsize = min(maxsize, prefetch)
        # A live source keeps one slot: the tracker always gets the newest frame.
        self._q: queue.Queue = queue.Queue(maxsize=1 if source.live else maxsize)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"gesturekit-source-{source.name}", daemon=True)
        self._thread.start()

    def _put(self, item: object) -> bool:
        if self.source.live and item is not _END:
            # Never wait on the consumer: replace a frame it has not taken yet.
            while not self._stop.is_set():
                try:
                    self._q.put_nowait(item)
                    return True
                except queue.Full:
                    try:
                        self._q.get_nowait()
                        self.dropped += 1
                    except queue.Empty:
                        pass
            return False
        while not self._stop.is_set():
            try:
                self._q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _room(self) -> bool:
        """Wait until the queue has a free slot (files: nothing is decoded before it has one)."""
        with self._q.not_full:  # notified by every get()
            while not self._stop.is_set():
                if self._q.maxsize <= 0 or self._q._qsize() < self._q.maxsize:
                    return True
                self._q.not_full.wait(0.1)
        return False

    def _run(self) -> None:
        try:
            it = iter(self.source)
            while self.source.live or self._room():
                try:
                    item = next(it)
                except StopIteration:
                    break
                if not self._put(item):
                    return
        except BaseException as e:  # handed to the consumer thread
            self._error = e
        self._put(_END)

    def __iter__(self) -> Iterator[SourceItem]:
        while True:
            try:
                item = self._q.get(timeout=0.1)
            except queue.Empty:
                if not self._thread.is_alive() and self._q.empty():
                    break
                continue
            if item is _END:
                break
            yield item
        if self._error is not None:
            raise self._error

    def close(self, timeout: float = 10.0) -> None:
        """Stop decoding and release the source.

        The source is asked to stop first and releases its device from its own thread, so a
        capture is never released while another thread is still reading it.
        """
        self._stop.set()
        self.source.close()
        self._thread.join(timeout=timeout)
