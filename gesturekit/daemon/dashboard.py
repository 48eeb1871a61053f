"""The daemon's web dashboard: static pages plus a Server-Sent Events stream on the status server.

Enabled with ``health: {dashboard: true}`` and served by the status endpoint
(:class:`~gesturekit.daemon.health.HealthServer`) at ``http://127.0.0.1:8766/dashboard/``, so it
has the endpoint's address, ``Host`` check and token. The page (``gesturekit/daemon/dashboard/``:
plain HTML, JS and CSS, no CDN) reads ``/dashboard/stream`` (SSE) and polls ``/status``.

:class:`Dashboard` is registered with the daemon's plugin manager as a plugin: its
``gesturekit_event`` hook sees every event the bus gets (the same events every sink gets), its
``gesturekit_frame`` hook every frame (in the pipeline thread; it only copies the keypoints,
rate-limited, and only while a page is connected) and, at ``explain_rate``, the explain readout
(:meth:`RulesClassifier.explain_last`) of every classifier that can explain itself.

The stream's messages (each ``data`` is one strict-JSON object):

``hello``
    ``{"gestures": [...], "history": [event, ...], "explain_rate": r}`` once, at connect.
``gesture``
    one event (its canonical JSON, :meth:`GestureEvent.to_dict`).
``frame``
    ``{"index", "t", "width", "height", "hands": [{"id", "handedness", "score", "keypoints": [[x, y] * 21]}],
    "detections": [{"gesture", "hands", "score"}]}`` (pixels), newest frame wins.
``explain``
    ``{"index", "t", "hands": [readout, ...]}`` (the ``gestures explain --json`` hand objects).
``bye``
    the daemon is stopping; everything before it was delivered.
"""

from __future__ import annotations

import json
import logging
import math
import mimetypes
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from gesturekit.hookspecs import hookimpl
from gesturekit.values import Detection, Frame, GestureEvent

__all__ = ["Dashboard", "STATIC_DIR", "strict_json", "static_file"]

log = logging.getLogger("gesturekit.daemon")

#: The page's files (shipped as package data).
STATIC_DIR = Path(__file__).with_name("dashboard")
_FILES = ("index.html", "app.js", "style.css")
#: Events a page may fall behind before it is disconnected (it reconnects and gets the history).
MAX_BACKLOG = 10000
#: Seconds between SSE comments that keep idle connections (and proxies) open.
KEEPALIVE = 10.0


def _finite(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, Mapping):
        return {str(k): _finite(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_finite(x) for x in v]
    return v


def strict_json(obj: Any, indent: int | None = None) -> str:
    """``obj`` as strict JSON (no ``NaN``/``Infinity``: non-finite numbers become ``null``)."""
    seps = (",", ":") if indent is None else None
    try:
        return json.dumps(obj, allow_nan=False, separators=seps, indent=indent, default=str)
    except ValueError:
        return json.dumps(_finite(obj), allow_nan=False, separators=seps, indent=indent, default=str)


def static_file(name: str) -> tuple[bytes, str] | None:
    """``(content, content type)`` of one of the page's files, or None for any other name."""
    name = name or "index.html"
    if name not in _FILES:
        return None
    ctype = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if ctype.startswith("text/") or ctype.endswith("javascript"):
        ctype += "; charset=utf-8"
    return (STATIC_DIR / name).read_bytes(), ctype


class _Client:
    """One connected page: events queue up (never dropped), frames and readouts keep the newest."""

    def __init__(self) -> None:
        self.events: deque[str] = deque()
        self.frame: str | None = None
        self.explain: str | None = None
        self.overflow = False


class Dashboard:
    """Live state for dashboard pages and the SSE stream that carries it.

    :param classifiers: returns the running classifiers (the daemon's current pipeline's); those
        with ``explain_last()`` feed the explain panel.
    :param frame_rate: most frames per second sent to pages.
    :param explain_rate: most explain readouts per second (0 = none).
    :param history: past events a page gets when it connects.
    :param origins: browser origins accepted besides this server's own and local pages.
    """

    def __init__(self, classifiers: Callable[[], Mapping[str, Any]] = dict, frame_rate: float = 15.0,
                 explain_rate: float = 4.0, history: int = 1000, origins: Iterable[str] = ()) -> None:
        self.classifiers = classifiers
        self.frame_rate, self.explain_rate = float(frame_rate), float(explain_rate)
        self.origins = tuple(o.strip().rstrip("/").lower() for o in origins)
        self._history: deque[str] = deque(maxlen=max(0, int(history)))
        self._clients: set[_Client] = set()
        self._cond = threading.Condition()
        self._closing = False
        self._next_frame = self._next_explain = 0.0
        self.events_seen = 0
        self.clients_served = 0
        self.slow_disconnects = 0

    @classmethod
    def for_daemon(cls, daemon: Any) -> Dashboard:
        """The dashboard of a :class:`~gesturekit.daemon.runner.Daemon`, registered with its plugin
        manager (its hooks are isolated like any plugin's)."""
        d = daemon.config.health.dashboard

        def classifiers() -> Mapping[str, Any]:  # the running pipeline's (a reload swaps them)
            pipe = getattr(getattr(daemon, "supervisor", None), "pipe", None) or getattr(daemon, "_pipe", None)
            return pipe.classifiers if pipe is not None else daemon.chain.parts.classifiers

        dash = cls(classifiers, d.frame_rate, d.explain_rate, d.history, d.origins)
        daemon.pm.register(dash, name="dashboard")
        dash._pm = daemon.pm
        return dash

    # what the page needs -------------------------------------------------------------------------
    def gesture_names(self) -> list[str]:
        """Every gesture the running classifiers can report."""
        names: set[str] = set()
        for clf in self.classifiers().values():
            names.update(str(n) for n in (getattr(clf, "names", ()) or ()))
        return sorted(names)

    @property
    def clients(self) -> int:
        with self._cond:
            return len(self._clients)

    def status(self) -> dict[str, Any]:
        """Counters for the status endpoint."""
        return {"clients": self.clients, "clients_served": self.clients_served, "events": self.events_seen,
                "slow_disconnects": self.slow_disconnects}

    # hooks (the pipeline's thread) ---------------------------------------------------------------
    @hookimpl
    def gesturekit_event(self, event: GestureEvent) -> None:
        """Every event: kept in the history and queued for every page."""
        text = strict_json(event.to_dict())
        with self._cond:
            self.events_seen += 1
            self._history.append(text)
            for c in self._clients:
                if len(c.events) >= MAX_BACKLOG:
                    c.overflow = True
                else:
                    c.events.append(text)
            self._cond.notify_all()

    @hookimpl
    def gesturekit_frame(self, frame: Frame, detections: list[Detection]) -> None:
        """Frames (rate-limited) and explain readouts (at ``explain_rate``), only while a page listens."""
        if not self._clients:
            return
        now = time.monotonic()
        frame_text = explain_text = None
        if now >= self._next_frame:
            self._next_frame = now + 1.0 / self.frame_rate
            frame_text = strict_json(self._frame_message(frame, detections))
        if self.explain_rate > 0 and now >= self._next_explain:
            self._next_explain = now + 1.0 / self.explain_rate
            hands = []
            for clf in self.classifiers().values():
                explain = getattr(clf, "explain_last", None)
                if callable(explain):
                    hands.extend(explain())
            explain_text = strict_json({"index": frame.index, "t": frame.t, "hands": hands})
        if frame_text is None and explain_text is None:
            return
        with self._cond:
            for c in self._clients:
                if frame_text is not None:
                    c.frame = frame_text
                if explain_text is not None:
                    c.explain = explain_text
            self._cond.notify_all()

    @staticmethod
    def _frame_message(frame: Frame, detections: list[Detection]) -> dict[str, Any]:
        return {
            "index": frame.index, "t": frame.t, "width": frame.width, "height": frame.height,
            "hands": [{"id": h.track_id, "handedness": h.handedness, "score": round(float(h.score), 3),
                       "keypoints": [[round(float(x), 1), round(float(y), 1)] for x, y in h.keypoints]}
                      for h in frame.hands],
            "detections": [{"gesture": d.gesture, "hands": list(d.hands), "score": round(float(d.score), 3)}
                           for d in detections],
        }

    # the stream (one HTTP handler thread per page) -----------------------------------------------
    def stream(self, out: BinaryIO) -> None:
        """Write the SSE stream to ``out`` until the page goes away or :meth:`close` (which ends
        it with ``bye`` after everything queued went out)."""
        client = _Client()
        with self._cond:
            if self._closing:
                return
            history = list(self._history)
            self._clients.add(client)
            self.clients_served += 1
        try:
            hello = (f'{{"gestures":{strict_json(self.gesture_names())},"explain_rate":'
                     f'{strict_json(self.explain_rate)},"history":[{",".join(history)}]}}')
            self._write(out, [("hello", hello)])
            while True:
                with self._cond:
                    if not (client.events or client.frame or client.explain or client.overflow or self._closing):
                        self._cond.wait(KEEPALIVE)
                    msgs = [("gesture", e) for e in client.events]
                    client.events.clear()
                    if client.frame is not None:
                        msgs.append(("frame", client.frame))
                    if client.explain is not None:
                        msgs.append(("explain", client.explain))
                    client.frame = client.explain = None
                    overflow, closing = client.overflow, self._closing
                if msgs:
                    self._write(out, msgs)
                elif not closing:
                    out.write(b": keepalive\n\n")
                    out.flush()
                if overflow:
                    self.slow_disconnects += 1
                    log.warning("dashboard: a page fell %d events behind; disconnected (it reconnects)", MAX_BACKLOG)
                    return
                if closing:
                    self._write(out, [("bye", "{}")])
                    return
        except OSError as e:  # the page went away
            log.debug("dashboard: a page disconnected: %s", e)
        finally:
            with self._cond:
                self._clients.discard(client)
                self._cond.notify_all()

    @staticmethod
    def _write(out: BinaryIO, msgs: list[tuple[str, str]]) -> None:
        out.write("".join(f"event: {kind}\ndata: {data}\n\n" for kind, data in msgs).encode())
        out.flush()

    def close(self, timeout: float = 2.0) -> None:
        """End every stream after what is queued went out (up to ``timeout`` s) and leave the
        plugin manager."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._closing = True
            self._cond.notify_all()
            while self._clients and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
        pm = getattr(self, "_pm", None)
        if pm is not None and pm.is_registered(self):
            pm.unregister(self)
