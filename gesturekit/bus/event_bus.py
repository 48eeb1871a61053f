"""The event bus: fans every GestureEvent out to every sink without ever blocking the publisher.

Each sink gets a bounded queue and its own worker thread, so a slow, blocked or dead sink never
stalls the tracker or the other sinks. When a queue is full the oldest waiting event is dropped
and counted. Per-sink counters (``delivered``, ``dropped``, ``errors``, ``reconnects``,
``queued``) are readable with :meth:`EventBus.stats` and logged by :meth:`EventBus.log_stats`.
Every published event ends up either ``delivered`` or ``dropped`` (a failed send of a
non-durable sink only counts in ``errors``).

A sink whose ``send`` only hands the event on (MQTT: to the client library, which waits for the
broker's acknowledgement) says how many of the events it accepted are not acknowledged yet in an
``unacknowledged`` attribute or property: ``delivered`` counts only acknowledged events, the rest
show as ``unacknowledged``; those still unacknowledged once the sink is closed count as dropped.

Each sink has a ``state``: ``running``; ``retrying`` while a durable sink's send keeps failing
(a full disk, a peer that is away); ``down`` when a non-durable sink's last send failed or the
sink reports ``connected: false``; ``failed`` when it could not be (re)started. ``last_error``
is the error of the failure in progress: it is cleared by the next successful send.

A *durable* sink (JSONL, MQTT with QoS 1) does not lose an event its ``send`` failed on: the
worker retries that event with backoff (counting errors) until it goes through or the bus
closes. Durable sinks get a larger queue by default. :meth:`EventBus.replace_sink` swaps the
sink object behind a name while keeping its queue, so a sink restarted by a config reload
loses nothing either. ``send`` is never called after the sink's ``close``.

Frames (with keypoints) travel on a separate, rate-limited stream to *frame observers*: sinks
that have a ``send_frame(frame)`` method and callables added with
:meth:`EventBus.add_frame_observer`. Each observer keeps only the newest frame, so a slow
observer sees fewer frames and never delays events; its own counters are ``frames_delivered``,
``frames_dropped`` and ``frame_errors``.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from gesturekit.values import Frame, GestureEvent

__all__ = ["EventBus", "Sink", "SinkStats", "stats_table"]

log = logging.getLogger("gesturekit.bus")

#: Default queue sizes (events waiting per sink).
DEFAULT_QUEUE_SIZE = 1024
DEFAULT_DURABLE_QUEUE_SIZE = 100_000
#: Seconds sinks get to close after the drain deadline (all sinks close in parallel).
CLOSE_GRACE = 2.0


class Sink(Protocol):
    """What a sink factory returns. ``send`` runs in the sink's own worker thread."""

    def send(self, event: GestureEvent) -> None: ...


def unacknowledged(sink: Any) -> int:
    """The sink's ``unacknowledged`` attribute or property (events its ``send`` accepted that the
    peer has not acknowledged yet) as an int >= 0; 0 when it has none or reading it fails."""
    if sink is None:
        return 0
    try:
        value = getattr(sink, "unacknowledged", 0)
        if callable(value):
            value = value()
        return max(0, int(value or 0))
    except Exception:
        return 0


@dataclass
class SinkStats:
    """Counters of one sink (a snapshot is returned by :meth:`EventBus.stats`)."""

    delivered: int = 0
    dropped: int = 0
    errors: int = 0
    reconnects: int = 0
    queued: int = 0
    last_error: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The counters as a plain dict."""
        return dict(self.__dict__)


class _Worker:
    """One sink: a bounded deque guarded by a condition, drained by one thread.

    The worker can be paused and given another sink object (:meth:`EventBus.replace_sink`):
    the queue, its counters and the event being sent stay with the worker.
    """

    def __init__(self, name: str, sink: Any, queue_size: int, durable: bool, retry_max: float) -> None:
        self.name, self.sink, self.durable, self.retry_max = name, sink, durable, retry_max
        self.queue_size = max(1, int(queue_size))
        self.stats = SinkStats()
        self.state = "running"  # running | failed (paused without a working sink)
        self._retrying = False  # a durable send keeps failing
        self._last_failed = False  # the last send failed
        self._failures = 0  # failed sends since the last successful one
        self._q: collections.deque[GestureEvent] = collections.deque()
        self._cond = threading.Condition()
        self._closing = False  # no more events accepted; drain what is queued
        self._abort = False  # stop now (drain deadline passed)
        self._paused = False  # the sink is being swapped: hold events
        self._busy = False
        self._inflight_dropped = False  # the event in send() was already counted as dropped
        self._gen = 0  # bumped when a thread stuck in send() is abandoned
        self._send_lock = threading.Lock()  # held around send(); close() takes it first
        self._sink_closed = False
        self._last_log = 0.0
        self._suppressed = 0
        self._thread: threading.Thread | None = None
        self._thread_gen = 0

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
    def _run(self, gen: int) -> None:
        while True:
            with self._cond:
                while (self._gen == gen and not self._abort and not self._closing
                       and (self._paused or not self._q)):
                    self._cond.wait()
                if self._gen != gen or self._abort or self._paused or not self._q:
                    return
                event = self._q.popleft()
                self._busy, self._inflight_dropped = True, False
            try:
                self._deliver(event, gen)
            finally:
                with self._cond:
                    if self._gen == gen:
                        self._busy = False
                    self._cond.notify_all()

    def _deliver(self, event: GestureEvent, gen: int) -> None:
        delay = 0.05
        while True:
            lock = self._send_lock
            with lock:
                with self._cond:
                    if self._gen != gen or self._abort or self._sink_closed:
                        return  # counted as dropped by whoever stopped us
                    if self._paused:  # the sink is being swapped: the next sink sends it
                        self._q.appendleft(event)
                        return
                try:
                    self.sink.send(event)
                    error: Exception | None = None
                except Exception as e:  # a sink never brings the bus down
                    error = e
            if error is None:
                with self._cond:
                    if self._gen == gen and not self._inflight_dropped:
                        self.stats.delivered += 1
                    failures, self._failures = self._failures, 0
                    if failures:
                        self.stats.last_error = ""
                    self._retrying = self._last_failed = False
                if failures:
                    log.info("sink %r recovered after %d failed send%s", self.name, failures,
                             "" if failures == 1 else "s")
                return
            self._failed(error)
            if not self.durable:
                return
            with self._cond:  # wait before retrying; close/pause wake us at once
                if not (self._gen != gen or self._abort or self._paused):
                    self._cond.wait(delay)
            delay = min(delay * 2, self.retry_max)

    def _failed(self, e: Exception) -> None:
        with self._cond:
            self.stats.errors += 1
            self.stats.last_error = f"{type(e).__name__}: {e}"
            self._failures += 1
            self._last_failed = True
            self._retrying = self.durable
        now = time.monotonic()
        if now - self._last_log >= 5.0:  # rate-limited: a dead peer must not flood the log
            extra = f" ({self._suppressed} similar errors not logged)" if self._suppressed else ""
            log.error("sink %r failed: %s%s", self.name, self.stats.last_error, extra,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            self._last_log, self._suppressed = now, 0
        else:
            self._suppressed += 1

    # control --------------------------------------------------------------------------------
    def current_state(self) -> str:
        """``failed`` | ``retrying`` | ``down`` | ``running`` (call with ``_cond`` held)."""
        if self.state == "failed":
            return "failed"
        if self._retrying:
            return "retrying"
        return "down" if self._last_failed else self.state

    def qsize(self) -> int:
        with self._cond:
            return len(self._q) + (1 if self._busy else 0)

    def start(self) -> None:
        with self._cond:
            gen = self._thread_gen = self._gen
        self._thread = threading.Thread(target=self._run, args=(gen,), name=f"gesturekit-sink-{self.name}",
                                        daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def begin_close(self) -> None:
        """Accept no more events; the thread drains what is queued and ends."""
        with self._cond:
            self._closing = True
            self._cond.notify_all()

    def abort(self, reason: str) -> int:
        """Stop now: what is queued (and the event in send()) is counted as dropped."""
        with self._cond:
            self._abort = True
            left = len(self._q)
            self._q.clear()
            if self._busy and not self._inflight_dropped:
                self._inflight_dropped = True
                left += 1
            self.stats.dropped += left
            self._cond.notify_all()
        if left:
            log.warning("sink %r %s; %d queued events dropped", self.name, reason, left)
        return left

    def pause(self, timeout: float) -> bool:
        """Hold events and wait (up to ``timeout`` s) for the send in progress to end.

        A durable event being retried goes back to the front of the queue. A send that does
        not return in time is abandoned (its event counted as dropped); :meth:`resume` starts
        a fresh thread. Returns False when a send was abandoned.
        """
        with self._cond:
            self._paused = True
            self._cond.notify_all()
            end = time.monotonic() + timeout
            while self._busy and time.monotonic() < end:
                self._cond.wait(max(0.0, end - time.monotonic()))
            if not self._busy:
                return True
            self._gen += 1  # the stuck thread exits when (if) its send returns
            self._busy = False
            self._send_lock = threading.Lock()
            if not self._inflight_dropped:
                self.stats.dropped += 1
        log.warning("sink %r was stuck in send() for %.1f s; abandoned that send (1 event dropped)",
                    self.name, timeout)
        return False

    def resume(self, sink: Any) -> None:
        """Deliver the held queue (and everything after it) to ``sink``."""
        with self._cond:
            self.sink, self._sink_closed, self.state = sink, False, "running"
            self._retrying = self._last_failed = False
            self._paused = False
            self._cond.notify_all()
            restart = not self.alive() or self._gen != self._thread_gen
        if restart:
            self.start()


class _FrameObserver:
    """Newest-frame-wins delivery to one observer in its own thread, with its own counters."""

    def __init__(self, name: str, func: Callable[[Frame], Any]) -> None:
        self.name, self.func = name, func
        self.delivered = self.dropped = self.errors = 0  # guarded by _cond
        self._pending: Frame | None = None
        self._cond = threading.Condition()
        self._closed = False
        self._last_log = 0.0
        self._thread = threading.Thread(target=self._run, name=f"gesturekit-frames-{name}", daemon=True)
        self._thread.start()

    def counters(self) -> dict[str, int]:
        with self._cond:
            return {"frames_delivered": self.delivered, "frames_dropped": self.dropped,
                    "frame_errors": self.errors}

    def put(self, frame: Frame) -> None:
        with self._cond:
            if self._pending is not None:
                self.dropped += 1
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
            except Exception as e:
                with self._cond:
                    self.errors += 1
                if time.monotonic() - self._last_log >= 5.0:
                    self._last_log = time.monotonic()
                    log.error("frame observer %r failed: %s: %s", self.name, type(e).__name__, e)
            else:
                with self._cond:
                    self.delivered += 1

    def begin_close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def close(self, timeout: float = 1.0) -> None:
        self.begin_close()
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
        self._force = threading.Event()

    # sinks ----------------------------------------------------------------------------------
    def add_sink(self, name: str, sink: Any, *, queue_size: int | None = None, durable: bool | None = None,
                 retry_max: float = 5.0, open_sink: bool = True) -> None:
        """Add a sink and start its worker. ``sink.open()`` is called first when present.

        :param durable: retry failed sends instead of dropping them (default: the sink's own
            ``durable`` attribute, else ``False``).
        :raises ValueError: when the name is taken.
        :raises Exception: whatever ``sink.open()`` raises (the sink is then not added).
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
                self._observers[name] = _FrameObserver(name, sink.send_frame)

    def replace_sink(self, name: str, sink: Any, *, timeout: float = 5.0, queue_size: int | None = None,
                     durable: bool | None = None) -> None:
        """Swap the sink object behind ``name``, keeping its queue and counters.

        The worker is paused (the send in progress gets up to ``timeout`` s to finish; a durable
        event being retried goes back to the queue), the old sink is closed, ``sink.open()`` is
        called and the worker resumes with everything queued meanwhile. When ``open()`` raises,
        the worker stays paused and keeps queueing (bounded, oldest dropped) in state
        ``failed``; a later ``replace_sink`` retries. The exception propagates.

        :raises KeyError: when no sink is called ``name``.
        """
        if not callable(getattr(sink, "send", None)):
            raise TypeError(f"sink {name!r} has no send(event) method")
        with self._lock:
            w = self._workers[name]
            obs = self._observers.pop(name, None)
        if obs is not None:
            obs.close()
        w.pause(timeout)
        if w.sink is not None:
            old = w.sink
            self._close_sinks([w], time.monotonic() + timeout)
            lost = unacknowledged(old)
            if lost:  # gone with the old sink: no longer counted as delivered
                with w._cond:
                    lost = min(lost, w.stats.delivered)
                    w.stats.delivered -= lost
                    w.stats.dropped += lost
                log.warning("sink %r: %d events were not acknowledged before it was replaced", name, lost)
        if durable is None:
            durable = bool(getattr(sink, "durable", False))
        w.durable = durable
        w.queue_size = max(1, int(queue_size if queue_size is not None else
                                  (DEFAULT_DURABLE_QUEUE_SIZE if durable else self.queue_size)))
        try:
            if callable(getattr(sink, "open", None)):
                sink.open()
        except BaseException as e:
            with w._cond:
                w.sink, w.state = None, "failed"
                w.stats.last_error = f"{type(e).__name__}: {e}"
            raise
        w.resume(sink)
        with self._lock:
            if callable(getattr(sink, "send_frame", None)):
                self._observers[name] = _FrameObserver(name, sink.send_frame)

    def remove_sink(self, name: str, timeout: float = 5.0) -> None:
        """Drain (up to ``timeout`` s), stop and close one sink."""
        with self._lock:
            w = self._workers.pop(name, None)
            obs = self._observers.pop(name, None)
        if obs is not None:
            obs.close()
        if w is not None:
            deadline = time.monotonic() + timeout
            w.begin_close()
            self._join([w], deadline)
            if w.alive() or w.qsize():
                w.abort("did not drain in time")
            self._close_sinks([w], deadline + CLOSE_GRACE)

    def sink(self, name: str) -> Any:
        """The sink object registered as ``name``."""
        return self._workers[name].sink

    @property
    def sink_names(self) -> list[str]:
        """Names of the sinks on the bus."""
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
        """``{sink name: {delivered, dropped, errors, reconnects, queued, durable, state, ...}}``.

        ``reconnects`` is read from the sink's own ``reconnects`` attribute when it has one,
        ``connected`` from its ``connected`` attribute (only when the sink has one),
        ``unacknowledged`` from its ``unacknowledged`` attribute (only when it has one; those
        events are not counted in ``delivered``), and a sink's ``status()`` dict is merged in.
        ``state`` is ``failed``, ``retrying``, ``down`` or ``running`` (see the module doc).
        Sinks that take frames add ``frames_delivered``,
        ``frames_dropped`` and ``frame_errors``.
        """
        with self._lock:
            workers = dict(self._workers)
            observers = dict(self._observers)
        out = {}
        for name, w in workers.items():
            with w._cond:
                sink = w.sink
            unacked = unacknowledged(sink)  # read before the counter: never counts an event twice
            with w._cond:
                d = w.stats.to_dict()
                state = w.current_state()
            d["queued"] = w.qsize()
            d["durable"] = w.durable
            d["reconnects"] = int(getattr(sink, "reconnects", d["reconnects"]) or 0)
            connected = sink_connected(sink)
            if connected is not None:
                d["connected"] = connected
                if connected is False and state == "running":
                    state = "down"
            d["state"] = state
            if name in observers:
                d.update(observers[name].counters())
            extra = getattr(sink, "status", None)
            if callable(extra):
                try:
                    d.update(extra())
                except Exception as e:  # status is informative only
                    d["status_error"] = f"{type(e).__name__}: {e}"
            if sink is not None and hasattr(sink, "unacknowledged"):
                d["unacknowledged"] = unacked
                d["delivered"] = max(0, int(d["delivered"]) - unacked)
            out[name] = d
        return out

    def log_stats(self, level: int = logging.INFO) -> None:
        """Log one line per sink with its counters."""
        for name, s in self.stats().items():
            self.log.log(level, "sink %r: delivered=%d dropped=%d errors=%d reconnects=%d queued=%d%s",
                         name, s["delivered"], s["dropped"], s["errors"], s["reconnects"], s["queued"],
                         _state_suffix(s))

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
    def force(self) -> None:
        """Make a running or later :meth:`close` stop waiting: queued events are dropped
        (counted) and the sinks get a short moment to close (thread-safe; a second SIGTERM)."""
        self._force.set()

    def close(self, timeout: float = 5.0) -> dict[str, dict[str, Any]]:
        """Drain every queue (all sinks together, up to ``timeout`` s), close the sinks (in
        parallel, until ``CLOSE_GRACE`` s after the drain deadline at most), log the final
        counters and return them. Takes at most ``timeout + CLOSE_GRACE`` seconds (less after
        :meth:`force`)."""
        if self._closed:
            return {}
        self._closed = True
        deadline = time.monotonic() + timeout
        with self._lock:
            observers = list(self._observers.values())
            workers = dict(self._workers)
        for o in observers:
            o.begin_close()
        for w in workers.values():  # stop accepting, all drain in parallel
            w.begin_close()
        self._join(list(workers.values()), deadline)
        forced = self._force.is_set()
        for w in workers.values():
            if w.alive() or w.qsize():
                w.abort("shutdown forced" if forced else "is not running" if w.state == "failed"
                        else f"did not drain within {timeout:g} s")
        final = self.stats()
        with self._lock:
            self._observers.clear()
        close_by = (time.monotonic() + 0.5) if forced else max(deadline, time.monotonic()) + CLOSE_GRACE
        self._close_sinks(list(workers.values()), close_by)
        for name, w in workers.items():  # acknowledged while closing, or never: counted once more
            sink = w.sink
            if name in final and sink is not None and hasattr(sink, "unacknowledged"):
                lost = unacknowledged(sink)
                with w._cond:
                    sent, dropped = w.stats.delivered, w.stats.dropped
                final[name]["unacknowledged"] = lost
                final[name]["delivered"] = max(0, sent - lost)
                final[name]["dropped"] = dropped + min(lost, sent)
        for o in observers:
            o.close(0.1)
        with self._lock:
            self._workers.clear()
        for name, s in final.items():
            self.log.info("sink %r closed: delivered=%d dropped=%d errors=%d reconnects=%d",
                          name, s["delivered"], s["dropped"], s["errors"], s["reconnects"])
        return final

    def _join(self, workers: list[_Worker], deadline: float) -> None:
        """Wait until the workers' threads end, ``deadline`` passes or :meth:`force` is called."""
        while not self._force.is_set():
            alive = [w for w in workers if w.alive()]
            left = deadline - time.monotonic()
            if not alive or left <= 0:
                return
            t = alive[0]._thread
            if t is not None:
                t.join(min(0.05, left))

    def _close_sinks(self, workers: list[_Worker], deadline: float) -> None:
        """Close the workers' sinks in parallel, abandoning (with a warning) any still closing at
        ``deadline``. Each close waits for a send in progress (until the deadline) and marks the
        sink closed, so its worker never calls ``send`` on it afterwards."""
        pending: list[tuple[_Worker, threading.Thread, threading.Event]] = []
        for w in workers:
            sink, lock = w.sink, w._send_lock
            close = getattr(sink, "close", None)
            done = threading.Event()

            def _do(w: _Worker = w, close: Any = close, lock: threading.Lock = lock, done: threading.Event = done,
                    ) -> None:
                got = lock.acquire(timeout=max(0.0, deadline - time.monotonic()) / 2)  # then close anyway
                try:
                    w._sink_closed = True
                    if callable(close):
                        close()
                except Exception as e:
                    self.log.error("sink %r failed to close: %s: %s", w.name, type(e).__name__, e)
                finally:
                    if got:
                        lock.release()
                    done.set()

            t = threading.Thread(target=_do, name=f"gesturekit-close-{w.name}", daemon=True)
            t.start()
            pending.append((w, t, done))
        for w, _t, done in pending:
            while not done.wait(min(0.05, max(0.0, deadline - time.monotonic()))):
                if self._force.is_set():  # a forced close waits half a second at most
                    deadline = min(deadline, time.monotonic() + 0.5)
                if time.monotonic() >= deadline:
                    self.log.warning("sink %r did not close in time; abandoned", w.name)
                    break

    def __enter__(self) -> EventBus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sink_connected(sink: Any) -> bool | None:
    """The sink's ``connected`` attribute or property as a bool, or None when it has none
    (or reading it fails)."""
    if sink is None:
        return None
    try:
        value = getattr(sink, "connected", None)
        if callable(value):
            value = value()
    except Exception:
        return None
    return None if value is None else bool(value)


def _state(s: Mapping[str, Any]) -> str:
    st = s.get("state")
    if st in ("failed", "retrying", "down"):
        return str(st)
    if "connected" in s:
        return "connected" if s["connected"] else "down"
    return str(st or "")


def _state_suffix(s: Mapping[str, Any]) -> str:
    st = _state(s)
    return "" if st in ("running", "") else f" state={st}"


def stats_table(stats: Mapping[str, Mapping[str, Any]]) -> str:
    """A small text table of sink counters and states (used by ``gesturekit status``).

    The state is ``failed`` for a sink that could not (re)start, ``retrying`` for a durable
    sink whose sends keep failing, ``down`` for a sink whose last send failed or that reports no
    connection, ``connected`` for a sink that reports one, else ``running``.
    """
    cols = ("delivered", "dropped", "errors", "reconnects", "queued")
    width = max([4, *(len(n) for n in stats)])
    lines = [f"{'sink':<{width}}  " + "  ".join(f"{c:>10}" for c in cols) + "  state"]
    for name, s in stats.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{int(s.get(c, 0) or 0):>10}" for c in cols)
                     + f"  {_state(s)}")
    return "\n".join(lines)
