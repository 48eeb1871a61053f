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
    frames: true           # allow clients to ask for frames
    max_buffer: 4194304    # bytes queued for one client before it is disconnected as too slow
    ping_interval: 20      # seconds; vanished clients are dropped after ping_timeout
    ping_timeout: 20
"""

from __future__ import annotations

import asyncio
import hmac
import http
import ipaddress
import json
import logging
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gesturekit import ConfigError, Frame, GestureEvent, InputError, PluginError, hookimpl

log = logging.getLogger("gesturekit.sinks.websocket")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _import_websockets() -> Any:
    try:
        import websockets.asyncio.server as wss
    except ImportError:
        raise PluginError("the websocket sink needs the websockets package: pip install 'gesturekit[websocket]'",
                          plugin="websocket_sink") from None
    return wss


class _Client:
    __slots__ = ("conn", "frames")

    def __init__(self, conn: Any, frames: bool) -> None:
        self.conn, self.frames = conn, frames


class WebSocketSink:
    """A WebSocket server in its own thread and event loop; any number of clients."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = str(config.get("host", "127.0.0.1"))
        port = config.get("port", 8765)
        if not isinstance(port, int) or not 0 <= port <= 65535:
            raise ConfigError("must be a port number 0..65535", field="port")
        self.port = port
        token = config.get("token")
        if token is not None and (not isinstance(token, str) or not token):
            raise ConfigError("must be a non-empty string", field="token")
        self.token: str | None = token
        if not _is_loopback(self.host) and not self.token:
            raise ConfigError(f"listening on {self.host} makes the stream reachable from the network; "
                              "set a token (or use host: 127.0.0.1)", field="token")
        self.allow_frames = bool(config.get("frames", True))
        self.max_buffer = int(config.get("max_buffer", 4 * 1024 * 1024))
        self.ping_interval = float(config.get("ping_interval", 20))
        self.ping_timeout = float(config.get("ping_timeout", 20))
        self._wss = _import_websockets()
        self._clients: dict[Any, _Client] = {}
        self._out: list[tuple[str, bool]] = []
        self._out_lock = threading.Lock()
        self._drain_scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self.refused = 0
        self.slow_disconnects = 0
        self.connections = 0

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
        async with self._wss.serve(self._handler, self.host, self.port, process_request=self._authorize,
                                   ping_interval=self.ping_interval or None, ping_timeout=self.ping_timeout or None,
                                   max_size=65536, logger=log) as server:
            self.port = server.sockets[0].getsockname()[1]
            log.info("websocket sink listening on ws://%s:%d", self.host, self.port)
            self._ready.set()
            await self._stop.wait()
            server.close()  # closing handshake with every client (1001 going away), after what is queued
            try:
                await asyncio.wait_for(server.wait_closed(), 3.0)
            except (asyncio.TimeoutError, TimeoutError):
                log.warning("websocket clients did not close in time")

    def _authorize(self, connection: Any, request: Any) -> Any:
        if self.token is None:
            return None
        query = parse_qs(urlsplit(request.path).query)
        given = (query.get("token") or [""])[0]
        auth = request.headers.get("Authorization", "")
        if auth.lower().startswith("bearer "):
            given = auth[7:].strip()
        if hmac.compare_digest(given.encode(), self.token.encode()):
            return None
        self.refused += 1
        log.warning("websocket client %s refused: wrong or missing token", connection.remote_address)
        return connection.respond(http.HTTPStatus.UNAUTHORIZED, "wrong or missing token\n")

    async def _handler(self, conn: Any) -> None:
        query = parse_qs(urlsplit(conn.request.path).query)
        wants = self.allow_frames and (query.get("frames") or ["0"])[0] in ("1", "true", "yes")
        self._clients[conn] = client = _Client(conn, wants)
        self.connections += 1
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

    def _broadcast(self, msg: str, frames: bool) -> None:
        targets = []
        for c in list(self._clients.values()):
            if frames and not c.frames:
                continue
            tr = c.conn.transport
            if tr is None or tr.is_closing():
                continue
            if tr.get_write_buffer_size() > self.max_buffer:
                self.slow_disconnects += 1
                log.warning("websocket client %s is too slow (%d bytes waiting); disconnecting it",
                            c.conn.remote_address, tr.get_write_buffer_size())
                tr.abort()
                self._clients.pop(c.conn, None)
                continue
            targets.append(c.conn)
        if targets:
            self._wss.broadcast(targets, msg)

    # bus side -------------------------------------------------------------------------------
    def send(self, event: GestureEvent) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            raise RuntimeError("websocket server is not running")
        msg = event.to_json()
        with self._out_lock:  # one loop wake-up per burst of events, not one per event
            self._out.append((msg, False))
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._out_lock:
            batch, self._out = self._out, []
            self._drain_scheduled = False
        for msg, frames in batch:
            self._broadcast(msg, frames)

    def send_frame(self, frame: Frame) -> None:
        if not self.allow_frames or not any(c.frames for c in list(self._clients.values())):
            return
        d = frame.to_dict(3)
        d["type"] = "frame"
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._broadcast, json.dumps(d, separators=(",", ":")), True)

    def status(self) -> dict[str, Any]:
        return {"clients": len(self._clients), "connections": self.connections, "refused": self.refused,
                "slow_disconnects": self.slow_disconnects, "address": f"ws://{self.host}:{self.port}"}

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
