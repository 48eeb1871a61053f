"""Parallel tracking of one video file: contiguous chunks on worker threads, stitched in order.

MediaPipe releases the GIL while it runs its graph, so several ``HandLandmarker`` instances in
threads of one process use several cores. A video file is cut into ``workers`` contiguous chunks;
worker ``k`` opens its own decoder, seeks to its chunk and tracks it with its own
:class:`~gesturekit.tracking.Tracker` in VIDEO mode:

- **warm-up**: every chunk but the first starts ``warmup`` frames early; those frames only let
  MediaPipe's tracking state (the hand's region from the previous frame) and the tracker's own
  state (tracks, velocity, smoothing filters) converge, and their output is discarded;
- **check**: the warm-up frames are also the last frames of the previous chunk, decoded there
  without a seek; their fingerprints must agree, else the seek was not exact for this file and the
  previous worker tracks the chunk itself, so a result never depends on a seek;
- **stitch**: the chunk's own track ids are mapped to the ids of the previous chunk by matching
  hands on those overlap frames (keypoint distance); a hand first seen after the boundary gets the
  next new id, in frame order, as the sequential tracker would give it;
- **order**: frames come out in frame order, as soon as the chunk in front is done with them.
  Chunks ahead keep only their hands (no pixels, so memory stays small); their images are decoded
  again by the worker of the previous chunk, whose decoder stands at the right frame already.

The classifiers, the temporal engine and the bus then run in frame order on the consumer's thread
(:class:`~gesturekit.chain.builder.Chain` feeds these frames to its pipeline), so events are those
of the sequential run. Hands equal the sequential run's in count, ids and handedness; keypoints
within about a pixel (MediaPipe's tracking of a chunk starts from its own detection, see
docs/tracker.md).
"""

from __future__ import annotations

import logging
import math
import os
import queue
import threading
import time
import zlib
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from gesturekit._exceptions import GestureKitError
from gesturekit.sources.base import SourceItem
from gesturekit.tracking.options import TrackerOptions
from gesturekit.util.native import quiet_native_stderr
from gesturekit.values import Frame, Hand

__all__ = ["ParallelVideoReader", "plan_chunks", "resolve_workers", "default_warmup", "parallel_reader",
           "available_cores"]

log = logging.getLogger("gesturekit.tracking")

_END = object()
#: Fewest frames a chunk may have, as a multiple of the warm-up (shorter clips use fewer workers).
MIN_CHUNK_WARMUPS = 4
MIN_CHUNK_FRAMES = 48
#: Frames the worker before tracks past a chunk's start looking for a frame both trackers give bit
#: for bit. Two trackers agree as soon as both see no hand; while a hand stays in view they never
#: converge exactly (docs/tracker.md), so a longer hunt only repeats inference.
DEFAULT_SYNC = 2


def available_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | str | None, *, live: bool = False) -> int:
    """``auto`` (or ``None``): the cores for a file, 1 for a live source; an int as given."""
    if live:
        return 1
    if workers in (None, "auto"):
        return available_cores()
    n = int(workers)
    if n < 1:
        raise ValueError(f"workers must be 1 or more, got {n}")
    return n


def default_warmup(fps: float, options: TrackerOptions, keep_for: float | None = None) -> int:
    """Warm-up frames that cover the tracker's memory: a lost track's ``keep_for`` window (so a
    hand that reappears after the boundary is known to the new chunk) and, with smoothing, five
    time constants of the One-Euro filter at rest."""
    if keep_for is None:
        from gesturekit.tracking.tracks import TrackAssigner

        keep_for = float(getattr(TrackAssigner(), "keep_for", 0.5))
    w = math.ceil(keep_for * fps) + 2
    if options.smoothing:
        w = max(w, math.ceil(5 * fps / (2 * math.pi * options.smoothing_min_cutoff)))
    return int(min(max(w, 8), max(8, 3 * fps)))


def plan_chunks(n_frames: int, workers: int, warmup: int) -> list[tuple[int, int]]:
    """Contiguous ``(start, end)`` chunks of ``range(n_frames)``, at most ``workers``, none shorter
    than ``max(4 * warmup, 48)`` frames (so the warm-up stays a small part of each)."""
    if n_frames <= 0:
        return [(0, 0)]
    shortest = max(MIN_CHUNK_WARMUPS * warmup, MIN_CHUNK_FRAMES)
    k = max(1, min(workers, n_frames // shortest))
    bounds = np.linspace(0, n_frames, k + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def fingerprint(img: np.ndarray) -> int:
    """A cheap checksum of a decoded frame (a strided sample of its pixels, and its shape)."""
    sample = np.ascontiguousarray(img[::7, ::5])
    return zlib.crc32(sample.data, zlib.crc32(repr(img.shape).encode()))


class _Stop(Exception):
    """Raised inside a worker when the reader is closed or the worker is cancelled."""


class _Prefetch:
    """A ``cv2.VideoCapture`` read ahead on a thread of its own (a few frames), so that decoding
    one frame overlaps tracking the one before. For a lone worker with a core to spare."""

    def __init__(self, cap: cv2.VideoCapture, depth: int = 4) -> None:
        self._cap, self._stop = cap, threading.Event()
        self._q: queue.Queue = queue.Queue(maxsize=depth)
        self._thread = threading.Thread(target=self._run, name="gesturekit-decode", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                ok, img = self._cap.read()
            except cv2.error:
                ok, img = False, None
            while not self._stop.is_set():
                try:
                    self._q.put((ok, img), timeout=0.1)
                    break
                except queue.Full:
                    continue
            if not ok:
                return

    def read(self) -> tuple[bool, np.ndarray | None]:
        while True:
            try:
                return self._q.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set() or not self._thread.is_alive() and self._q.empty():
                    return False, None

    def release(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5.0)
        self._cap.release()


@dataclass(eq=False)
class _Chunk:
    """One chunk and the hand-over between its worker, the worker before it and the consumer.

    The consumer gets a chunk in two parts: ``frames``, tracked (pixels included) by the worker of
    the chunk before, which goes on past its own end until its output and this chunk's worker's
    are the same (the hand-over frame, a ``("sync", index)`` marker), then ``hands`` (this chunk's
    worker's frames, without pixels) with ``images`` decoded again by the worker before.
    """

    index: int
    start: int
    end: int | None  # None: to the end of the file
    warm_frames: list[Frame] = field(default_factory=list)
    warm_prints: dict[int, int] = field(default_factory=dict)
    warm_done: threading.Event = field(default_factory=threading.Event)
    outputs: dict[int, Frame] = field(default_factory=dict)  # this worker's frames (hands only), by index
    finished: threading.Event = field(default_factory=threading.Event)
    cancelled: threading.Event = field(default_factory=threading.Event)
    #: "split": a prefix from the worker before, then this chunk's worker; "whole": all of it from
    #: the worker before (``tracked_by``); "none": the file ended before it.
    mode: str = ""
    tracked_by: int = -1
    decided: threading.Event = field(default_factory=threading.Event)
    hands: queue.Queue = field(default_factory=queue.Queue)  # (Frame without image, print) ... _END
    frames: queue.Queue = field(default_factory=lambda: queue.Queue(maxsize=8))  # Frame with image ... marker
    images: queue.Queue = field(default_factory=lambda: queue.Queue(maxsize=8))  # (index, image) ... _END

    def decide(self, mode: str, tracked_by: int) -> None:
        self.mode, self.tracked_by = mode, tracked_by
        self.decided.set()


def same_output(a: Frame, b: Frame) -> bool:
    """Bit for bit the same hands (ids aside): from here on, two trackers of one clip agree."""
    if len(a.hands) != len(b.hands):
        return False
    return all(x.handedness == y.handedness and x.score == y.score and np.array_equal(x.keypoints, y.keypoints)
               and np.array_equal(x.keypoints3d, y.keypoints3d) for x, y in zip(a.hands, b.hands, strict=True))


class ParallelVideoReader:
    """Tracks a video file with ``workers`` trackers in threads; yields :class:`SourceItem` values
    carrying finished :class:`~gesturekit.Frame` values (image included) in frame order.

    :param path: the video file.
    :param options: tracker options (``mode`` must be ``video``).
    :param workers: trackers (threads); the clip's length may allow fewer (:func:`plan_chunks`).
    :param warmup: frames each chunk after the first starts early (default: :func:`default_warmup`).
    :param source_name: the frames' ``source``.
    :param max_frames: track only the first ``max_frames`` frames.
    :param fps, frame_count: the file's rate and length when already known (else read here).
    :param sync: frames the worker before goes on past a chunk's start looking for a frame both
        trackers give bit for bit (from there on they agree); without one it hands over after
        ``sync`` frames anyway, within about a pixel (default :data:`DEFAULT_SYNC`).
    :param exact: hand over only at such a frame: the result is the sequential run's, bit for bit;
        a chunk where the trackers never agree is tracked whole by the worker before (no speed-up).
    :param images: frames carry their pixels. ``False``: hands only (``image`` is ``None``), and the
        chunks ahead are not decoded a second time (on a 1080p clip decoding is an eighth of a
        frame's work).

    Use as an iterable, once; :meth:`close` stops the workers. ``dropped`` is always 0 (a file
    never drops frames).
    """

    live = False

    def __init__(self, path: str, options: TrackerOptions, workers: int, *, warmup: int | None = None,
                 source_name: str = "", max_frames: int | None = None, fps: float | None = None,
                 frame_count: int | None = None, exact: bool = False, sync: int | None = None,
                 images: bool = True) -> None:
        self.options = options.resolved(live=False, mode="video")
        if self.options.mode != "video":
            raise ValueError("parallel tracking needs mode='video'")
        self.path, self.source_name = path, source_name
        if fps is None or frame_count is None:
            from gesturekit.sources.video import VideoFileSource

            src = VideoFileSource(path, max_pixels=0)
            fps, frame_count = src.fps, src.frame_count
        self.fps = float(fps) if fps and 1.0 <= fps <= 1000.0 else 30.0
        n = int(frame_count or 0)
        if max_frames is not None:
            n = min(n, int(max_frames)) if n > 0 else int(max_frames)
        self.max_frames = max_frames
        self.warmup = int(warmup) if warmup else default_warmup(self.fps, self.options)
        self.exact = bool(exact)
        self.images = bool(images)
        self.sync = int(sync) if sync else DEFAULT_SYNC
        bounds = plan_chunks(n, max(1, int(workers)), self.warmup)
        self.chunks = [_Chunk(i, a, b) for i, (a, b) in enumerate(bounds)]
        if max_frames is None:
            self.chunks[-1].end = None  # the container's frame count is an estimate: read to the end
        self.workers = len(self.chunks)
        self.dropped = 0
        self.fallbacks = 0  # chunks whose seek check failed (tracked by the previous worker)
        self.approximate = 0  # hand-overs where the two trackers never gave the same frame
        self.unsynced = 0  # chunks tracked whole by the worker before (exact mode, no common frame)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._failed = threading.Event()
        self._threads: list[threading.Thread] = []
        self._started = False

    # workers ------------------------------------------------------------------------------------
    def _t(self, j: int) -> float:
        return j / self.fps

    def _check(self, chunk: _Chunk | None = None) -> None:
        if self._stop.is_set() or (chunk is not None and chunk.cancelled.is_set()):
            raise _Stop

    def _put(self, q: queue.Queue, item: Any, chunk: _Chunk | None = None) -> None:
        while True:
            self._check(chunk)
            try:
                q.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _open(self, start: int) -> cv2.VideoCapture:
        with quiet_native_stderr():
            cap = cv2.VideoCapture(self.path)
            if start > 0:
                cap.set(cv2.CAP_PROP_POS_FRAMES, start)
        return cap

    def _worker(self, k: int) -> None:
        from gesturekit.tracking.tracker import Tracker

        chunk = self.chunks[k]
        tracker = cap = None
        try:
            begin = max(0, chunk.start - (self.warmup if k > 0 else 0))
            cap = self._open(begin)
            if len(self.chunks) == 1 and available_cores() > 1:
                # one worker: decode ahead on the spare core (the chunk's only reads are sequential)
                cap = _Prefetch(cap)
            tracker = Tracker(self.options)
            j = begin
            if k == 0:
                chunk.decide("whole", 0)
            # warm-up: frames of the chunk before, kept only to check the seek and to stitch
            while j < chunk.start:
                self._check(chunk)
                ok, img = cap.read()
                if not ok:
                    break
                chunk.warm_prints[j] = fingerprint(img)
                f = tracker.process(img, t=self._t(j), index=j, source=self.source_name)
                chunk.warm_frames.append(replace(f, image=None))
                j += 1
            chunk.warm_done.set()
            tail: deque[tuple[int, int]] = deque(maxlen=self.warmup)
            last = k + 1 == len(self.chunks)  # no chunk after this one: no fingerprints needed
            eof = False
            # this worker's own chunk (chunk 0: straight to the consumer, pixels included)
            while chunk.end is None or j < chunk.end:
                self._check(chunk)
                ok, img = cap.read()
                if not ok:
                    eof = True
                    break
                fp = 0 if last and k == 0 else fingerprint(img)
                if not last:
                    tail.append((j, fp))
                f = tracker.process(img, t=self._t(j), index=j, source=self.source_name)
                if k == 0:
                    self._put(chunk.frames, f if self.images else replace(f, image=None))
                else:
                    hf = replace(f, image=None)
                    chunk.outputs[j] = hf
                    chunk.hands.put((hf, fp))
                j += 1
            if k == 0:
                self._put(chunk.frames, _END)
            else:
                chunk.hands.put(_END)
                chunk.finished.set()
                # only a chunk whose output is used may judge the next one
                while not chunk.decided.wait(0.1):
                    self._check(chunk)
                self._check(chunk)
            own = chunk
            while True:
                nxt = self.chunks[own.index + 1] if own.index + 1 < len(self.chunks) else None
                if nxt is None:
                    return
                if eof:  # the file ended early: nothing follows
                    for c in self.chunks[own.index + 1:]:
                        c.cancelled.set()
                        c.decide("none", k)
                    return
                while not nxt.warm_done.wait(0.1):
                    self._check()
                mine = dict(tail)
                seek_ok = len(nxt.warm_prints) == min(self.warmup, nxt.start) > 0 and all(
                    mine.get(i) == p for i, p in nxt.warm_prints.items())
                if not seek_ok:
                    log.warning("%s: the decoder's seek to frame %d was not exact; tracking that part "
                                "without a seek", self.source_name or self.path, nxt.start)
                    self.fallbacks += 1
                    nxt.cancelled.set()
                if not seek_ok or self.exact:
                    limit = nxt.end
                else:
                    limit = nxt.start + self.sync if nxt.end is None else min(nxt.end, nxt.start + self.sync)
                synced = None
                # go on past the boundary until both trackers give the same frame (or the limit)
                while limit is None or j < limit:
                    self._check()
                    ok, img = cap.read()
                    if not ok:
                        eof = True
                        break
                    tail.append((j, fingerprint(img)))
                    f = tracker.process(img, t=self._t(j), index=j, source=self.source_name)
                    self._put(nxt.frames, f if self.images else replace(f, image=None))
                    j += 1
                    if seek_ok:
                        theirs = self._output_of(nxt, j - 1)
                        if theirs is not None and same_output(theirs, f):
                            synced = j - 1
                            break
                if seek_ok and not eof and (synced is not None or limit != nxt.end):
                    if synced is None:
                        self.approximate += 1
                    self._put(nxt.frames, ("sync", j - 1))
                    nxt.decide("split", nxt.index)
                    if self.images:
                        self._redecode(cap, j, nxt)
                    return
                # the whole chunk came from this worker: its own worker's output is not used
                if seek_ok:
                    self.unsynced += 1
                nxt.cancelled.set()
                self._put(nxt.frames, _END)
                nxt.decide("whole", k)
                own = nxt
        except _Stop:
            pass
        except BaseException as e:  # handed to the consumer
            self._error = self._error or e
            self._failed.set()
        finally:
            if tracker is not None:
                tracker.close()
            if cap is not None:
                cap.release()

    def _output_of(self, chunk: _Chunk, j: int) -> Frame | None:
        """Frame ``j`` as ``chunk``'s own worker tracked it (waits for it; ``None`` if it never will)."""
        while True:
            f = chunk.outputs.get(j)
            if f is not None or chunk.finished.is_set() or chunk.cancelled.is_set():
                return f if f is not None else chunk.outputs.get(j)
            self._check()
            time.sleep(0.002)

    def _redecode(self, cap: cv2.VideoCapture, j: int, chunk: _Chunk) -> None:
        """Decode the pixels of ``chunk`` from frame ``j`` (its hands come from its own worker)."""
        while chunk.end is None or j < chunk.end:
            ok, img = cap.read()
            if not ok:
                break
            self._put(chunk.images, (j, img))
            j += 1
        self._put(chunk.images, _END)

    # consumer -----------------------------------------------------------------------------------
    def _get(self, q: queue.Queue) -> Any:
        while True:
            if self._failed.is_set():
                assert self._error is not None
                raise self._error
            try:
                return q.get(timeout=0.1)
            except queue.Empty:
                if self._stop.is_set():
                    raise _Stop from None

    def _wait(self, ev: threading.Event) -> None:
        while not ev.wait(0.1):
            if self._failed.is_set():
                assert self._error is not None
                raise self._error

    def start(self) -> None:
        if self._started:
            return
        self._started = True
        for k in range(len(self.chunks)):
            t = threading.Thread(target=self._worker, args=(k,), name=f"gesturekit-track-{k}", daemon=True)
            t.start()
            self._threads.append(t)

    def __iter__(self) -> Iterator[SourceItem]:
        self.start()
        maps: dict[int, dict[int, int]] = {}
        recent: deque[Frame] = deque(maxlen=self.warmup + (self.sync or 0) + 2)
        next_id = 1
        try:
            for chunk in self.chunks:
                # first part: tracked by the worker before (chunk 0: all of it, by worker 0)
                synced = None
                prev = chunk.index - 1 if chunk.index > 0 else 0
                while True:
                    f = self._get(chunk.frames)
                    if f is _END:
                        break
                    if isinstance(f, tuple):
                        synced = f[1]
                        break
                    f, next_id = _relabel(f, maps.setdefault(self._tracker_of(prev), {}), next_id)
                    recent.append(replace(f, image=None))
                    yield SourceItem(f.index, f.t, frame=f, name=f.source)
                self._wait(chunk.decided)
                if chunk.mode == "none":
                    break
                if chunk.mode == "whole":
                    continue
                # second part: this chunk's worker, from the hand-over frame on
                mine = [chunk.outputs[i] for i in sorted(chunk.outputs) if i <= synced][-len(recent):]
                maps[chunk.index] = stitch(list(recent), chunk.warm_frames + mine)
                ids = maps[chunk.index]
                while True:
                    got = self._get(chunk.hands)
                    if got is _END:
                        if self.images and self._get(chunk.images) is not _END:
                            raise GestureKitError(f"{self.path}: parallel decoding gave different frame counts; "
                                                  "set parallel.workers: 1")
                        break
                    hf, fp = got
                    if synced is not None and hf.index <= synced:
                        continue
                    if self.images:
                        img = self._get(chunk.images)
                        if img is _END or img[0] != hf.index or fingerprint(img[1]) != fp:
                            raise GestureKitError(f"{self.path}: parallel decoding diverged at frame {hf.index}; "
                                                  "set parallel.workers: 1")
                        hf = replace(hf, image=img[1])
                    f, next_id = _relabel(hf, ids, next_id)
                    recent.append(replace(f, image=None))
                    yield SourceItem(f.index, f.t, frame=f, name=f.source)
        except _Stop:
            return
        finally:
            self.close()

    def _tracker_of(self, index: int) -> int:
        """The worker whose tracker produced the frames of chunk ``index``."""
        c = self.chunks[index]
        return c.tracked_by if c.mode == "whole" else c.index

    def close(self, timeout: float = 10.0) -> None:
        """Stop every worker and release its decoder and tracker."""
        self._stop.set()
        for t in self._threads:
            if t is not threading.current_thread():
                t.join(timeout=timeout)


def _relabel(frame: Frame, ids: dict[int, int], next_id: int) -> tuple[Frame, int]:
    """``frame`` with its worker's track ids mapped to the global ones (new hands get new ids, in
    the order the worker gave them, as the sequential tracker would), hands sorted by id."""
    hands: list[Hand] = []
    for h in sorted(frame.hands, key=lambda h: h.track_id):
        g = ids.get(h.track_id)
        if g is None:
            g = ids[h.track_id] = next_id
        next_id = max(next_id, g + 1)
        hands.append(h if g == h.track_id else replace(h, track_id=g))
    if all(a is b for a, b in zip(hands, frame.hands, strict=True)) and len(hands) == len(frame.hands):
        return frame, next_id
    return replace(frame, hands=tuple(sorted(hands, key=lambda h: h.track_id))), next_id


def stitch(previous: list[Frame], warm: list[Frame], max_distance: float = 0.05) -> dict[int, int]:
    """Map the track ids of a chunk's warm-up frames to those of the same frames of the previous
    chunk: hands matched per frame by mean keypoint distance (under ``max_distance`` of the image
    diagonal), the latest overlap frames first (the most converged)."""
    by_index = {f.index: f for f in previous}
    out: dict[int, int] = {}
    taken: set[int] = set()
    for wf in reversed(warm):
        pf = by_index.get(wf.index)
        if pf is None or not wf.hands or not pf.hands:
            continue
        a = np.stack([h.keypoints for h in wf.hands])
        b = np.stack([h.keypoints for h in pf.hands])
        cost = np.linalg.norm(a[:, None] - b[None], axis=-1).mean(axis=-1) / float(np.hypot(wf.width, wf.height))
        for flat in np.argsort(cost, axis=None):
            i, j = divmod(int(flat), len(pf.hands))
            lid, gid = wf.hands[i].track_id, pf.hands[j].track_id
            if cost[i, j] > max_distance or lid in out or gid in taken:
                continue
            out[lid] = gid
            taken.add(gid)
    return out


def parallel_reader(source: Any, options: TrackerOptions, workers: int | str | None = "auto", *,
                    warmup: int | None = None, max_frames: int | None = None,
                    source_name: str | None = None, exact: bool = False,
                    sync: int | None = None, images: bool = True) -> ParallelVideoReader | None:
    """A :class:`ParallelVideoReader` for ``source`` when it is a video file (not paced in real
    time) tracked in video mode, else ``None`` (the caller tracks on its own thread).

    With one worker (``workers: 1``, one core, or a clip too short for two chunks) the file is
    still tracked on a thread of its own: the classifiers, temporal engine and sinks of one frame
    then run while MediaPipe tracks the next (it releases the GIL), instead of after it."""
    from gesturekit.sources.video import VideoFileSource

    if not isinstance(source, VideoFileSource) or source.realtime:
        return None
    opts = options.resolved(live=False, mode="video")
    if opts.mode != "video":
        return None
    n = resolve_workers(workers, live=False)
    return ParallelVideoReader(source.path, opts, n, warmup=warmup,
                               source_name=source.name if source_name is None else source_name,
                               max_frames=max_frames, fps=source.fps, frame_count=source.frame_count,
                               exact=exact, sync=sync, images=images)
