"""The event bus: fans every GestureEvent out to every sink without ever blocking the publisher.

Each sink gets a bounded queue and its own worker thread, so a slow, blocked or dead sink never
stalls the tracker or the other sinks. When a queue is full the oldest waiting event is dropped
and counted. Per-sink counters (``delivered``, ``dropped``, ``errors``, ``reconnects``,
``queued``) are readable with :meth:`EventBus.stats` and logged by :meth:`EventBus.log_stats`.

A *durable* sink (JSONL, MQTT with QoS 1) does not lose an event its ``send`` failed on: the
worker retries that event with backoff (counting errors) until it goes through or the bus
closes. Durable sinks get a larger queue by default.

Frames (with keypoints) travel on a separate, rate-limited stream to *frame observers*: sinks
that have a ``send_frame(frame)`` method and callables added with
:meth:`EventBus.add_frame_observer`. Each observer keeps only the newest frame, so a slow
observer sees fewer frames and never delays events.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from .values import Frame, GestureEvent

__all__ = ["EventBus", "Sink", "SinkStats", "stats_table"]

log = logging.getLogger("gesturekit.bus")

#: Default queue sizes (events waiting per sink).
DEFAULT_QUEUE_SIZE = 1024
DEFAULT_DURABLE_QUEUE_SIZE = 100_000


class Sink(Protocol):
    """What a sink factory returns. ``send`` runs in the sink's own worker thread."""

    def send(self, event: GestureEvent) -> None: ...


@dataclass
class SinkStats:
    """Counters of one sink (a snapshot is returned by :meth:`EventBus.stats`)."""

    delivered: int = 0
    dropped: int = 0
    errors: int = 0
    reconnects: int = 0
    queued: int = 0
    frames: int = 0
    frames_dropped: int = 0
    last_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Worker:
    """One sink: a bounded deque guarded by a condition, drained by one thread."""

    def __init__(self, name: str, sink: Any, queue_size: int, durable: bool, retry_max: float) -> None:
        self.name, self.sink, self.durable, self.retry_max = name, sink, durable, retry_max
        self.queue_size = max(1, int(queue_size))
        self.stats = SinkStats()
        self._q: collections.deque[GestureEvent] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False  # no more events accepted; drain what is queued
        self._abort = False  # stop now (drain deadline passed)
        self._busy = False
        self._last_log = 0.0
        self._suppressed = 0
        self._thread = threading.Thread(target=self._run, name=f"gesturekit-sink-{name}", daemon=True)

    # publisher side -------------------------------------------------------------------------
    def put(self, event: GestureEvent) -> None:
        with self._cond:
            if self._closing:
                return
            if len(self._q) >= self.queue_size:
                self._q.popleft()
                self.stats.dropped += 1
            self._q.append(event)
            self._cond.notify()

    # worker side ----------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._q and not self._closing:
                    self._cond.wait()
                if self._abort or not self._q:
                    return
                event = self._q.popleft()
                self._busy = True
            try:
                self._deliver(event)
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _deliver(self, event: GestureEvent) -> None:
        delay = 0.05
        while True:
            try:
                self.sink.send(event)
            except Exception as e:  # a sink never brings the bus down
                self._failed(e)
                if not self.durable or self._abort:
                    return
                time.sleep(delay)
                delay = min(delay * 2, self.retry_max)
                continue
            self.stats.delivered += 1
            return

    def _failed(self, e: Exception) -> None:
        self.stats.errors += 1
        self.stats.last_error = f"{type(e).__name__}: {e}"
        now = time.monotonic()
        if now - self._last_log >= 5.0:  # rate-limited: a dead peer must not flood the log
            extra = f" ({self._suppressed} similar errors not logged)" if self._suppressed else ""
            log.error("sink %r failed: %s%s", self.name, self.stats.last_error, extra,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            self._last_log, self._suppressed = now, 0
        else:
            self._suppressed += 1

    def qsize(self) -> int:
        with self._cond:
            return len(self._q) + (1 if self._busy else 0)

    def start(self) -> None:
        self._thread.start()

    def stop(self, deadline: float) -> bool:
        """Drain until ``deadline`` (a ``time.monotonic()`` value); True when fully drained."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        if self._thread.is_alive():
            with self._cond:
                self._abort = True
                left = len(self._q)
                self._q.clear()
                self.stats.dropped += left
                self._cond.notify_all()
            log.warning("sink %r did not drain in time; %d queued events dropped", self.name, left)
            return False
        return True


class _FrameObserver:
    """Newest-frame-wins delivery to one observer in its own thread."""

    def __init__(self, name: str, func: Callable[[Frame], Any], stats: SinkStats | None = None) -> None:
        self.name, self.func = name, func
        self.stats = stats if stats is not None else SinkStats()
        self._pending: Frame | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._last_log = 0.0
        self._thread = threading.Thread(target=self._run, name=f"gesturekit-frames-{name}", daemon=True)
        self._thread.start()

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._pending is not None:
                self.stats.frames_dropped += 1
            self._pending = frame
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._pending is None and not self._closed:
                    self._cond.wait()
                if self._closed:
                    return
                frame, self._pending = self._pending, None
            try:
                self.func(frame)
                self.stats.frames += 1
            except Exception as e:
                self.stats.errors += 1
                if time.monotonic() - self._last_log >= 5.0:
                    self._last_log = time.monotonic()
                    log.error("frame observer %r failed: %s: %s", self.name, type(e).__name__, e)

    def close(self, timeout: float = 1.0) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)


class EventBus:
    """Fans GestureEvents out to named sinks, each behind its own bounded queue and thread.

    :param queue_size: default events waiting per sink before the oldest is dropped.
    :param frame_rate: most frames per second on the frame stream (``0`` = no frames).
    :param logger: where errors and statistics go (default ``gesturekit.bus``).

    Use as a context manager, or call :meth:`close` (which drains the queues).
    """

    def __init__(self, queue_size: int = DEFAULT_QUEUE_SIZE, frame_rate: float = 15.0,
                 logger: logging.Logger | None = None) -> None:
        self.queue_size = queue_size
        self.frame_rate = float(frame_rate)
        self.log = logger or log
        self._workers: dict[str, _Worker] = {}
        self._observers: dict[str, _FrameObserver] = {}
        self._lock = threading.Lock()
        self._next_frame_at = 0.0
        self.published = 0
        self.frames_published = 0
        self._closed = False

    # sinks ----------------------------------------------------------------------------------
    def add_sink(self, name: str, sink: Any, *, queue_size: int | None = None, durable: bool | None = None,
                 retry_max: float = 5.0, open_sink: bool = True) -> None:
        """Add a sink and start its worker. ``sink.open()`` is called first when present.

        :param durable: retry failed sends instead of dropping them (default: the sink's own
            ``durable`` attribute, else ``False``).
        :raises ValueError: when the name is taken.
        """
        if not callable(getattr(sink, "send", None)):
            raise TypeError(f"sink {name!r} has no send(event) method")
        with self._lock:
            if name in self._workers:
                raise ValueError(f"a sink named {name!r} is already on the bus")
        if durable is None:
            durable = bool(getattr(sink, "durable", False))
        if queue_size is None:
            queue_size = DEFAULT_DURABLE_QUEUE_SIZE if durable else self.queue_size
        if open_sink and callable(getattr(sink, "open", None)):
            sink.open()
        w = _Worker(name, sink, queue_size, durable, retry_max)
        w.start()
        with self._lock:
            self._workers[name] = w
            if callable(getattr(sink, "send_frame", None)):
                self._observers[name] = _FrameObserver(name, sink.send_frame, w.stats)

    def remove_sink(self, name: str, timeout: float = 5.0) -> None:
        """Drain (up to ``timeout`` s), stop and close one sink."""
        with self._lock:
            w = self._workers.pop(name, None)
            obs = self._observers.pop(name, None)
        if obs is not None:
            obs.close()
        if w is not None:
            w.stop(time.monotonic() + timeout)
            self._close_sink(name, w.sink)

    def sink(self, name: str) -> Any:
        """The sink object registered as ``name``."""
        return self._workers[name].sink

    @property
    def sink_names(self) -> list[str]:
        with self._lock:
            return list(self._workers)

    def add_frame_observer(self, name: str, func: Callable[[Frame], Any]) -> None:
        """Receive the rate-limited frame stream in ``func`` (its own thread, newest frame wins)."""
        with self._lock:
            if name in self._observers:
                raise ValueError(f"a frame observer named {name!r} exists")
            self._observers[name] = _FrameObserver(name, func)

    # publishing -----------------------------------------------------------------------------
    def publish(self, event: GestureEvent) -> None:
        """Queue ``event`` for every sink. Never blocks on a sink."""
        with self._lock:
            workers = list(self._workers.values())
            self.published += 1
        for w in workers:
            w.put(event)

    def publish_frame(self, frame: Frame, now: float | None = None) -> bool:
        """Offer ``frame`` to the frame observers; returns False when rate-limited away."""
        if self.frame_rate <= 0 or not self._observers:
            return False
        now = time.monotonic() if now is None else now
        if now < self._next_frame_at:
            return False
        self._next_frame_at = now + 1.0 / self.frame_rate
        self.frames_published += 1
        with self._lock:
            observers = list(self._observers.values())
        for o in observers:
            o.put(frame)
        return True

    # introspection --------------------------------------------------------------------------
    def stats(self) -> dict[str, dict[str, Any]]:
        """``{sink name: {delivered, dropped, errors, reconnects, queued, frames, ...}}``.

        ``reconnects`` is read from the sink's own ``reconnects`` attribute when it has one.
        """
        with self._lock:
            workers = dict(self._workers)
        out = {}
        for name, w in workers.items():
            d = w.stats.to_dict()
            d["queued"] = w.qsize()
            d["durable"] = w.durable
            d["reconnects"] = int(getattr(w.sink, "reconnects", d["reconnects"]) or 0)
            extra = getattr(w.sink, "status", None)
            if callable(extra):
                try:
                    d.update(extra())
                except Exception as e:  # status is informative only
                    d["status_error"] = f"{type(e).__name__}: {e}"
            out[name] = d
        return out

    def log_stats(self, level: int = logging.INFO) -> None:
        """Log one line per sink with its counters."""
        for name, s in self.stats().items():
            self.log.log(level, "sink %r: delivered=%d dropped=%d errors=%d reconnects=%d queued=%d",
                         name, s["delivered"], s["dropped"], s["errors"], s["reconnects"], s["queued"])

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every queue is empty and no send is in progress (tests, benchmarks)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                workers = list(self._workers.values())
            if all(w.qsize() == 0 for w in workers):
                return True
            time.sleep(0.005)
        return False

    # life cycle -----------------------------------------------------------------------------
    def close(self, timeout: float = 5.0) -> dict[str, dict[str, Any]]:
        """Drain every queue (all sinks together, up to ``timeout`` s), close the sinks, log
        the final counters and return them."""
        if self._closed:
            return {}
        self._closed = True
        with self._lock:
            observers = list(self._observers.values())
            self._observers.clear()
        for o in observers:
            o.close()
        deadline = time.monotonic() + timeout
        with self._lock:
            workers = dict(self._workers)
        for w in workers.values():  # stop accepting, all drain in parallel
            with w._cond:
                w._closing = True
                w._cond.notify_all()
        for w in workers.values():
            w.stop(deadline)
        final = self.stats()
        for name, w in workers.items():
            self._close_sink(name, w.sink)
        with self._lock:
            self._workers.clear()
        for name, s in final.items():
            self.log.info("sink %r closed: delivered=%d dropped=%d errors=%d reconnects=%d",
                          name, s["delivered"], s["dropped"], s["errors"], s["reconnects"])
        return final

    def _close_sink(self, name: str, sink: Any) -> None:
        close = getattr(sink, "close", None)
        if not callable(close):
            return
        done = threading.Event()

        def _do() -> None:
            try:
                close()
            except Exception as e:
                self.log.error("sink %r failed to close: %s: %s", name, type(e).__name__, e)
            finally:
                done.set()

        t = threading.Thread(target=_do, name=f"gesturekit-close-{name}", daemon=True)
        t.start()
        if not done.wait(10.0):  # a sink stuck in close() must not hang shutdown
            self.log.warning("sink %r did not close within 10 s; abandoned", name)

    def __enter__(self) -> EventBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def stats_table(stats: Mapping[str, Mapping[str, Any]]) -> str:
    """A small text table of sink counters (used by ``gesturekit status``)."""
    cols = ("delivered", "dropped", "errors", "reconnects", "queued")
    width = max([4, *(len(n) for n in stats)])
    lines = [f"{'sink':<{width}}  " + "  ".join(f"{c:>10}" for c in cols)]
    for name, s in stats.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{int(s.get(c, 0)):>10}" for c in cols))
    return "\n".join(lines)
