"""The ``websocket`` sink: a WebSocket server streaming events (and, on request, frames).

Every connected client receives every GestureEvent as one text message of canonical JSON.
A client that connects with ``?frames=1`` (or sends ``{"frames": true}``) also receives the
daemon's rate-limited frame stream: messages ``{"type": "frame", "index", "t", "width",
"height", "source", "hands": [{..., "keypoints", "keypoints3d"}]}``. Event messages never
have a ``type`` key.

Config::

    type: websocket
    host: 127.0.0.1        # anything but a loopback address requires a token
    port: 8765             # 0 = any free port
    token: s3cret          # optional; clients send ?token=... or "Authorization: Bearer ..."
    origins: [https://dash.example.org]   # browser origins accepted besides the local ones
    frames: true           # allow clients to ask for frames
    max_buffer: 4194304    # bytes queued for one client before it is disconnected as too slow
    max_pending: 10000     # messages waiting for the server thread before the oldest are dropped
    ping_interval: 20      # seconds; vanished clients are dropped after ping_timeout
    ping_timeout: 20

Origin check: a client without an ``Origin`` header (scripts, native apps) and browser pages
from ``localhost``, ``127.0.0.1`` or ``[::1]`` are accepted; any other browser origin gets HTTP
403 unless it is listed in ``origins`` (``"*"`` = any), so a web page you happen to visit cannot
read your gesture stream. ``Origin: null`` is foreign too: a sandboxed iframe on any web site
sends it, and so does a page opened from a local file (list ``"null"`` in ``origins`` to accept
such pages, best together with a token). A request with more than one ``Origin`` header is
refused with HTTP 400.

What the ``websockets`` library logs (handshakes, closed connections, failures with a traceback)
goes to the ``gesturekit.sinks.websocket`` logger as one line each, its tracebacks only when that
logger is at DEBUG level. The sink serves no HTTP pages (a plain HTTP request gets 426), so only
the Origin, not the ``Host`` header, decides which browser pages may connect.

Each batch of events is encoded once (unmasked, uncompressed WebSocket frames are the same
bytes for every client) and written to each client with one write.
"""

from __future__ import annotations

import asyncio
import collections
import http
import json
import logging
import sys
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, ValidationInfo, field_validator

from gesturekit import Frame, GestureEvent, InputError, PluginError, PluginOptions, hookimpl, options
from gesturekit.sinks import needs_token, origin_allowed, request_token, sink_options, token_matches

log = logging.getLogger("gesturekit.sinks.websocket")



def _import_websockets() -> Any:
    try:
        import websockets.asyncio.server as wss
        import websockets.frames as frames
        from websockets.protocol import State
    except ImportError:
        raise PluginError("the websocket sink needs the websockets package: pip install 'gesturekit[websocket]'",
                          plugin="websocket_sink") from None
    return wss, frames, State


class WebSocketOptions(PluginOptions):
    """Options of the ``websocket`` sink."""

    host: str = Field("127.0.0.1", description="address to listen on; anything but loopback requires a token")
    port: int = Field(8765, ge=0, le=65535, strict=True, description="TCP port (0 = any free port)")
    token: str | None = Field(None, min_length=1, validate_default=True,
                              description="clients send ?token=... or 'Authorization: Bearer ...'")
    origins: list[str] | str = Field(default_factory=list,
                                     description='browser origins accepted besides the local pages ("*" = any, '
                                                 '"null" = sandboxed iframes and local files)')
    frames: bool = Field(True, strict=True, description="allow clients to ask for the frame stream")
    max_buffer: int = Field(4 * 1024 * 1024, ge=1024, strict=True,
                            description="bytes queued for one client before it is disconnected as too slow")
    max_pending: int = Field(10_000, ge=1, strict=True,
                             description="messages waiting for the server thread before the oldest are dropped")
    ping_interval: float = Field(20, ge=0, strict=True, description="seconds between pings (0 = off)")
    ping_timeout: float = Field(20, ge=0, strict=True,
                                description="seconds a client may take to answer a ping (0 = off)")

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 65535:
            raise ValueError("must be a port number 0..65535 (0 = any free port)")
        return v

    @field_validator("token")
    @classmethod
    def _token_off_loopback(cls, v: str | None, info: ValidationInfo) -> str | None:
        host = info.data.get("host")
        if host is not None and needs_token(host, v):
            raise ValueError(f"listening on {host} is reachable from the network: set a token, "
                             "or use host: 127.0.0.1")
        return v

    @field_validator("origins")
    @classmethod
    def _origin_list(cls, v: list[str] | str) -> list[str]:
        v = [v] if isinstance(v, str) else v
        if not all(o.strip() for o in v):
            raise ValueError('must be a list of origins such as https://example.org (or "*" for any)')
        return [o.strip().rstrip("/").lower() for o in v]


class _OneLineLog(logging.LoggerAdapter):
    """What ``websockets`` logs, one line per message: its chatter (connection open / closed,
    server listening) at DEBUG, its failures (they end one connection, never the server) at
    WARNING with the exception folded into the line (the traceback is kept only at DEBUG)."""

    def log(self, level: int, msg: Any, *args: Any, **kwargs: Any) -> None:
        level = logging.DEBUG if level < logging.WARNING else logging.WARNING
        if not self.logger.isEnabledFor(level):
            return
        exc = kwargs.pop("exc_info", None)
        if exc:
            err = exc if isinstance(exc, BaseException) else sys.exc_info()[1]
            if err is not None:
                tail = f": {type(err).__name__}: {err}"
                msg = f"{msg}{tail.replace('%', '%%') if args else tail}"
            if self.logger.isEnabledFor(logging.DEBUG):
                kwargs["exc_info"] = exc
        self.logger.log(level, msg, *args, **kwargs)

    def isEnabledFor(self, level: int) -> bool:  # noqa: N802 - logging's naming
        return self.logger.isEnabledFor(logging.DEBUG if level < logging.WARNING else logging.WARNING)


class _Client:
    __slots__ = ("conn", "frames")

    def __init__(self, conn: Any, frames: bool) -> None:
        self.conn, self.frames = conn, frames


@options(WebSocketOptions)
class WebSocketSink:
    """A WebSocket server in its own thread and event loop; any number of clients.

    :param config: a :class:`WebSocketOptions` or its section as a plain dict.
    """

    def __init__(self, config: WebSocketOptions | Any = None) -> None:
        opts = sink_options(WebSocketOptions, config)
        self.options = opts
        self.host = opts.host
        self.port = opts.port
        self.token: str | None = opts.token
        self.origins = frozenset(opts.origins)
        self.allow_frames = opts.frames
        self.max_buffer = opts.max_buffer
        self.max_pending = opts.max_pending
        self.ping_interval = float(opts.ping_interval)
        self.ping_timeout = float(opts.ping_timeout)
        self._wslog = _OneLineLog(log, {})
        self._wss, self._frames, self._open_state = _import_websockets()
        self._clients: dict[Any, _Client] = {}
        self._out: collections.deque[tuple[bytes, bool]] = collections.deque()
        self._out_lock = threading.Lock()
        # the latest event of each active gesture, so that a client connecting mid-gesture learns of it
        self._active: dict[tuple[str, tuple[int, ...]], bytes] = {}
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._last_drop_log = 0.0
        self.refused = 0
        self.refused_origin = 0
        self.slow_disconnects = 0
        self.connections = 0
        self.dropped = 0

    # server thread --------------------------------------------------------------------------
    def open(self) -> None:
        """Start listening; raises :class:`InputError` when the address cannot be bound."""
        self._thread = threading.Thread(target=self._thread_main, name="gesturekit-websocket", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            e = self._error
            msg = getattr(e, "strerror", None) or str(e)
            raise InputError(f"websocket sink: cannot listen on {self.host}:{self.port}: {msg}") from e

    def _thread_main(self) -> None:
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(self._loop_error)
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as e:  # reported to open()
            self._error = e
            self._ready.set()
        finally:
            loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        # no permessage-deflate: every client then gets the very same frame bytes (encoded once)
        async with self._wss.serve(self._handler, self.host, self.port, process_request=self._authorize,
                                   ping_interval=self.ping_interval or None, ping_timeout=self.ping_timeout or None,
                                   max_size=65536, compression=None, logger=self._wslog) as server:
            self.port = server.sockets[0].getsockname()[1]
            log.info("websocket sink listening on ws://%s:%d", self.host, self.port)
            self._ready.set()
            await self._stop.wait()
            server.close()  # closing handshake with every client (1001 going away), after what is queued
            try:
                await asyncio.wait_for(server.wait_closed(), 3.0)
            except (asyncio.TimeoutError, TimeoutError):
                log.warning("websocket clients did not close in time")

    def _loop_error(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        """asyncio's own reports (a transport that failed, a callback that raised): one line."""
        err = context.get("exception")
        what = context.get("message", "error in the websocket server loop")
        self._wslog.warning("%s%s", what, f": {type(err).__name__}: {err}" if err is not None else "")

    def _authorize(self, connection: Any, request: Any) -> Any:
        try:
            return self._check_request(connection, request)
        except Exception as e:  # a request we cannot judge is refused, never a 500 with a traceback
            self.refused += 1
            log.warning("websocket client %s refused: bad request (%s: %s)", connection.remote_address,
                        type(e).__name__, e)
            return connection.respond(http.HTTPStatus.BAD_REQUEST, "bad request\n")

    def _check_request(self, connection: Any, request: Any) -> Any:
        if self.token is not None and not token_matches(request_token(request.path, request.headers), self.token):
            self.refused += 1
            log.warning("websocket client %s refused: wrong or missing token", connection.remote_address)
            return connection.respond(http.HTTPStatus.UNAUTHORIZED, "wrong or missing token\n")
        found = request.headers.get_all("Origin")
        if len(found) > 1:  # which one would a browser mean? refuse rather than guess
            self.refused_origin += 1
            log.warning("websocket client %s refused: %d Origin headers", connection.remote_address, len(found))
            return connection.respond(http.HTTPStatus.BAD_REQUEST, "more than one Origin header\n")
        origin = found[0] if found else None
        if not origin_allowed(origin, self.origins):
            self.refused_origin += 1
            log.warning("websocket client %s refused: origin %r is not allowed (add it to origins:)",
                        connection.remote_address, origin)
            return connection.respond(http.HTTPStatus.FORBIDDEN, "origin not allowed\n")
        return None

    async def _handler(self, conn: Any) -> None:
        query = parse_qs(urlsplit(conn.request.path).query)
        wants = self.allow_frames and (query.get("frames") or ["0"])[0] in ("1", "true", "yes")
        self._clients[conn] = client = _Client(conn, wants)
        self.connections += 1
        with self._out_lock:
            snapshot = b"".join(self._active.values())
        if snapshot and conn.transport is not None:  # gestures already active: their latest event first
            conn.transport.write(snapshot)
        log.info("websocket client %s connected (%d now)", conn.remote_address, len(self._clients))
        try:
            async for msg in conn:  # clients may toggle the frame stream: {"frames": true}
                try:
                    req = json.loads(msg)
                except ValueError:
                    continue
                if isinstance(req, dict) and "frames" in req:
                    client.frames = self.allow_frames and bool(req["frames"])
        except Exception:  # a vanished client ends here; only this connection is affected
            pass
        finally:
            self._clients.pop(conn, None)
            log.info("websocket client %s gone (%d left)", conn.remote_address, len(self._clients))

    def _encode(self, msg: str) -> bytes:
        """One complete, unmasked text frame: the same bytes for every client."""
        f = self._frames
        return f.Frame(f.Opcode.TEXT, msg.encode()).serialize(mask=False, extensions=[])

    def _write(self, items: list[tuple[bytes, bool]]) -> None:
        """Write a batch of encoded frames to every client: events to all, frames to those that asked."""
        events_blob = b"".join(data for data, is_frame in items if not is_frame)
        all_blob = events_blob if len(events_blob) == sum(len(d) for d, _ in items) else \
            b"".join(data for data, _ in items)
        for c in list(self._clients.values()):
            blob = all_blob if c.frames else events_blob
            if not blob:
                continue
            conn = c.conn
            tr = conn.transport
            if tr is None or tr.is_closing() or conn.protocol.state is not self._open_state.OPEN:
                continue
            if tr.get_write_buffer_size() > self.max_buffer:
                self.slow_disconnects += 1
                log.warning("websocket client %s is too slow (%d bytes waiting); disconnecting it",
                            conn.remote_address, tr.get_write_buffer_size())
                tr.abort()
                self._clients.pop(conn, None)
                continue
            tr.write(blob)

    # bus side -------------------------------------------------------------------------------
    def _enqueue(self, data: bytes, is_frame: bool) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("websocket server is not running")
        with self._out_lock:  # one loop wake-up per burst of events, not one per event
            if len(self._out) >= self.max_pending:  # the server thread is behind: drop the oldest
                self._out.popleft()
                self.dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log >= 5.0:
                    self._last_drop_log = now
                    log.warning("websocket server thread is behind: %d messages dropped so far (max_pending %d)",
                                self.dropped, self.max_pending)
            self._out.append((data, is_frame))
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        loop.call_soon_threadsafe(self._drain)

    def send(self, event: GestureEvent) -> None:
        """Queue the event for every client (encoded here, in the bus worker's thread)."""
        data = self._encode(event.to_json())
        key = (event.gesture, tuple(int(h["id"]) for h in event.hands))
        with self._out_lock:
            if event.phase in ("start", "hold", "update"):
                self._active[key] = data
            elif event.phase == "end":
                self._active.pop(key, None)
        self._enqueue(data, False)

    def _drain(self) -> None:
        with self._out_lock:
            batch = list(self._out)
            self._out.clear()
            self._drain_scheduled = False
        if batch:
            self._write(batch)

    def send_frame(self, frame: Frame) -> None:
        """Queue a frame message for the clients that asked for frames."""
        if not self.allow_frames or not any(c.frames for c in list(self._clients.values())):
            return
        d = frame.to_dict(3)
        d["type"] = "frame"
        self._enqueue(self._encode(json.dumps(d, separators=(",", ":"))), True)

    def status(self) -> dict[str, Any]:
        """Clients, connections so far, refusals (token / origin), slow disconnects, drops, address."""
        clients = list(self._clients.values())
        return {"clients": len(clients), "frame_clients": sum(1 for c in clients if c.frames),
                "connections": self.connections, "refused": self.refused, "refused_origin": self.refused_origin,
                "slow_disconnects": self.slow_disconnects, "dropped": self.dropped,
                "address": f"ws://{self.host}:{self.port}"}

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def close(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop.set)
            except RuntimeError:
                pass
        if self._thread is not None:
            self._thread.join(5)


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"websocket": WebSocketSink}
