"""The ``tcp`` and ``udp`` sinks: newline-delimited canonical JSON over plain sockets.

``tcp`` connects to a listening peer (``mode: connect``, the default) or listens itself for
any number of clients (``mode: listen``; 127.0.0.1 by default, other addresses need a
``token`` that a client sends as its first line). ``udp`` sends one datagram (one JSON line)
per event.

Connect mode is durable: while the peer is away, events wait in the bus queue and are retried
with backoff, in order. Before each send the sink checks whether the peer has closed the
connection (end of stream or reset) and, if so, reconnects and sends the event on the new
connection. TCP itself has no application acknowledgement, so two windows remain: lines the
peer had received but not yet read when it closed, and a line sent in the instant between that
check and a close by the peer, are lost (and counted delivered). Use ``jsonl`` or ``mqtt`` with
QoS 1 where every event must be acknowledged.

Listen mode never blocks the bus: each client has its own output buffer written with
non-blocking sends; a client more than ``max_buffer`` bytes behind is disconnected and counted
(``slow_disconnects``). The token handshake runs in the I/O thread, so a silent client delays
nobody; it is refused after ``timeout`` seconds.

Config::

    type: tcp
    mode: connect            # or listen
    host: 127.0.0.1
    port: 9000               # listen: 0 = any free port
    token: ...               # listen mode on a non-loopback host: required
    timeout: 2.0             # seconds: connecting (connect), the token line (listen)
    max_buffer: 1048576      # listen: bytes waiting for one client before it is disconnected

    type: udp
    host: 127.0.0.1
    port: 9001
"""

from __future__ import annotations

import logging
import select
import selectors
import socket
import threading
import time
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from gesturekit import GestureEvent, InputError, PluginOptions, hookimpl, options
from gesturekit.sinks import UdpSender, needs_token, sink_options, token_matches

log = logging.getLogger("gesturekit.sinks.socket")


def _port_number(v: Any, lo: int, what: str) -> Any:
    if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= 65535:
        raise ValueError(f"{what} needs a port number {lo}..65535")
    return v


class TcpOptions(PluginOptions):
    """Options of the ``tcp`` sink."""

    mode: Literal["connect", "listen"] = Field("connect", description="connect to a listening peer, or listen for "
                                                                      "any number of clients")
    host: str = Field("127.0.0.1", min_length=1,
                      description="connect: the peer's address; listen: the address to listen on (anything but "
                                  "loopback requires a token)")
    port: int = Field(..., ge=0, le=65535, description="TCP port (required; listen: 0 = any free port)")
    token: str | None = Field(None, min_length=1, validate_default=True,
                              description="listen: the line a client must send first (required on a non-loopback "
                                          "host)")
    timeout: float = Field(2.0, ge=0.01, strict=True, allow_inf_nan=False,
                           description="seconds: connecting (connect), waiting for the token line (listen)")
    max_buffer: int = Field(1024 * 1024, ge=1024, strict=True,
                            description="listen: bytes waiting for one client before it is disconnected as too slow")

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: Any, info: ValidationInfo) -> Any:
        listen = info.data.get("mode") == "listen"
        return _port_number(v, 0 if listen else 1, "the tcp sink (listen: 0 = any free port)" if listen
                            else "the tcp sink")

    @field_validator("token")
    @classmethod
    def _token_off_loopback(cls, v: str | None, info: ValidationInfo) -> str | None:
        host = info.data.get("host")
        if info.data.get("mode") == "listen" and host is not None and needs_token(host, v):
            raise ValueError(f"listening on {host} is reachable from the network: set a token, "
                             "or use host: 127.0.0.1")
        return v


class UdpOptions(PluginOptions):
    """Options of the ``udp`` sink."""

    host: str = Field("127.0.0.1", min_length=1, description="the receiver's host name or IP address")
    port: int = Field(..., ge=1, le=65535, description="the receiver's UDP port (required)")

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        return _port_number(v, 1, "the udp sink")


class _Client:
    """One accepted connection in listen mode (touched under ``TcpSink._lock``)."""

    __slots__ = ("sock", "addr", "out", "authed", "deadline", "inbuf", "dead", "want_write")

    def __init__(self, sock: socket.socket, addr: Any, authed: bool, deadline: float) -> None:
        self.sock, self.addr, self.authed, self.deadline = sock, addr, authed, deadline
        self.out = bytearray()
        self.inbuf = bytearray()
        self.dead = ""  # why it must be closed ("" = alive)
        self.want_write = False


@options(TcpOptions)
class TcpSink:
    """Newline-delimited JSON over TCP, as a client (``connect``) or a server (``listen``).

    :param config: a :class:`TcpOptions` or its section as a plain dict.
    """

    def __init__(self, config: TcpOptions | Any = None) -> None:
        opts = sink_options(TcpOptions, config)
        self.options = opts
        self.mode = opts.mode
        self.host = opts.host
        self.port = opts.port
        self.token: str | None = opts.token
        self.timeout = float(opts.timeout)
        self.max_buffer = opts.max_buffer
        self.durable = self.mode == "connect"
        self.reconnects = 0
        self.refused = 0
        self.slow_disconnects = 0
        self.connections = 0
        self._sock: socket.socket | None = None
        self._connected_once = False
        self._next_try = 0.0
        self._backoff = 0.2
        self._server: socket.socket | None = None
        self._clients: dict[int, _Client] = {}
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None

    @property
    def connected(self) -> bool:
        """Connect mode: True while a connection to the peer is open. Listen mode: True while listening."""
        if self.mode == "listen":
            return self._server is not None and not self._closed.is_set()
        return self._sock is not None

    # connect mode -----------------------------------------------------------------------------
    def _connect(self) -> socket.socket:
        now = time.monotonic()
        if now < self._next_try:
            raise ConnectionError(f"tcp peer {self.host}:{self.port} unavailable; next try in "
                                  f"{self._next_try - now:.1f} s")
        try:
            s = socket.create_connection((self.host, self.port), timeout=self.timeout)
        except OSError:
            self._next_try = now + self._backoff
            self._backoff = min(self._backoff * 2, 10.0)
            raise
        self._backoff = 0.2
        if self._connected_once:
            self.reconnects += 1
            log.warning("tcp sink reconnected to %s:%d", self.host, self.port)
        self._connected_once = True
        return s

    @staticmethod
    def _peer_closed(s: socket.socket) -> bool:
        """True when the peer has closed or reset the connection (checked without blocking)."""
        try:
            readable, _, _ = select.select([s], [], [], 0)
            if not readable:
                return False
            data = s.recv(65536, socket.MSG_DONTWAIT)  # a peer's own chatter is read and ignored
        except BlockingIOError:
            return False
        except OSError:
            return True
        return data == b""

    def _send_connected(self, data: bytes) -> None:
        if self._sock is not None and self._peer_closed(self._sock):
            log.warning("tcp peer %s:%d closed the connection; reconnecting", self.host, self.port)
            self._sock.close()
            self._sock = None
        if self._sock is None:
            self._sock = self._connect()
        try:
            self._sock.sendall(data)
        except OSError:
            self._sock.close()
            self._sock = None
            raise

    # listen mode ------------------------------------------------------------------------------
    def open(self) -> None:
        """Listen (listen mode), or try the first connection (connect mode: a peer that is not
        reachable yet is logged and retried with backoff; events wait in the bus queue)."""
        if self.mode != "listen":
            try:
                self._sock = self._connect()
            except OSError as e:
                log.warning("tcp peer %s:%d not reachable (%s); retrying with backoff, events wait in the queue",
                            self.host, self.port, e.strerror or e)
            return
        try:
            srv = socket.create_server((self.host, self.port), reuse_port=False)
        except OSError as e:
            raise InputError(f"tcp sink: cannot listen on {self.host}:{self.port}: {e.strerror}") from None
        srv.setblocking(False)
        self._server = srv
        self.port = srv.getsockname()[1]
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread = threading.Thread(target=self._io_loop, name="gesturekit-tcp-io", daemon=True)
        self._thread.start()
        log.info("tcp sink listening on %s:%d", self.host, self.port)

    def _wake(self) -> None:
        try:
            if self._wake_w is not None:
                self._wake_w.send(b"x")
        except OSError:  # the pipe is full (a wake-up is pending anyway) or closed
            pass

    def _io_loop(self) -> None:
        assert self._server is not None and self._wake_r is not None
        sel = selectors.DefaultSelector()
        sel.register(self._server, selectors.EVENT_READ, None)
        sel.register(self._wake_r, selectors.EVENT_READ, None)
        try:
            while not self._closed.is_set():
                for key, mask in sel.select(timeout=0.2):
                    if key.fileobj is self._server:
                        self._accept(sel)
                    elif key.fileobj is self._wake_r:
                        try:
                            while self._wake_r.recv(4096):
                                pass
                        except OSError:
                            pass
                    else:
                        c = key.data
                        if mask & selectors.EVENT_READ:
                            self._readable(c)
                        if mask & selectors.EVENT_WRITE and not c.dead:
                            with self._lock:
                                self._flush(c)
                self._housekeeping(sel)
        finally:
            with self._lock:
                clients = list(self._clients.values())
                self._clients.clear()
            for c in clients:
                c.sock.close()
            sel.close()
            self._server.close()

    def _accept(self, sel: selectors.BaseSelector) -> None:
        assert self._server is not None
        for _ in range(64):
            try:
                s, addr = self._server.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            s.setblocking(False)
            c = _Client(s, addr, authed=self.token is None, deadline=time.monotonic() + self.timeout)
            with self._lock:
                self._clients[s.fileno()] = c
                if c.authed:
                    self.connections += 1
            sel.register(s, selectors.EVENT_READ, c)

    def _readable(self, c: _Client) -> None:
        try:
            data = c.sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            c.dead = c.dead or "gone"
            return
        if c.authed:
            return  # clients have nothing to say after the token; ignore it
        c.inbuf += data
        if b"\n" not in c.inbuf and len(c.inbuf) < 4096:
            return
        line = bytes(c.inbuf.split(b"\n", 1)[0]).strip()
        assert self.token is not None
        if token_matches(line, self.token):
            with self._lock:
                c.authed = True
                self.connections += 1
        else:
            c.dead = "refused"

    def _flush(self, c: _Client) -> None:
        """Write as much of ``c.out`` as the socket takes now (called with the lock held)."""
        while c.out:
            try:
                n = c.sock.send(c.out)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                c.dead = c.dead or "gone"
                return
            del c.out[:n]

    def _housekeeping(self, sel: selectors.BaseSelector) -> None:
        now = time.monotonic()
        with self._lock:
            clients = list(self._clients.values())
        for c in clients:
            if not c.authed and not c.dead and now >= c.deadline:
                c.dead = "refused"
            if c.dead:
                with self._lock:
                    self._clients.pop(c.sock.fileno(), None)
                sel.unregister(c.sock)
                if c.dead == "refused":
                    self.refused += 1
                    log.warning("tcp client %s refused: wrong or missing token", c.addr)
                elif c.dead == "slow":
                    log.warning("tcp client %s is too slow (more than %d bytes waiting); disconnected", c.addr,
                                self.max_buffer)
                else:
                    log.info("tcp client %s gone", c.addr)
                c.sock.close()
                continue
            with self._lock:
                want = bool(c.out)
            if want != c.want_write:
                c.want_write = want
                sel.modify(c.sock, selectors.EVENT_READ | (selectors.EVENT_WRITE if want else 0), c)

    def status(self) -> dict[str, Any]:
        """Listen: clients, refused, slow_disconnects, address. Connect: connected, reconnects."""
        if self.mode == "listen":
            return {"clients": self.client_count, "connections": self.connections, "refused": self.refused,
                    "slow_disconnects": self.slow_disconnects, "address": f"{self.host}:{self.port}"}
        return {"connected": self.connected, "reconnects": self.reconnects}

    @property
    def client_count(self) -> int:
        """Listen mode: clients that passed the token check and are still connected."""
        with self._lock:
            return sum(1 for c in self._clients.values() if c.authed and not c.dead)

    def send(self, event: GestureEvent) -> None:
        """Send one JSON line (connect: to the peer; listen: queued for every client, non-blocking)."""
        data = (event.to_json() + "\n").encode()
        if self.mode != "listen":
            self._send_connected(data)
            return
        wake = False
        with self._lock:
            for c in self._clients.values():
                if not c.authed or c.dead:
                    continue
                if not c.out:
                    try:  # the common case: the socket takes the line at once
                        n = c.sock.send(data)
                    except (BlockingIOError, InterruptedError):
                        n = 0
                    except OSError:
                        c.dead, wake = "gone", True
                        continue
                    if n == len(data):
                        continue
                    c.out += data[n:]
                else:
                    c.out += data
                if len(c.out) > self.max_buffer:
                    c.dead = "slow"
                    c.out.clear()
                    self.slow_disconnects += 1
                wake = True
        if wake:
            self._wake()

    def close(self) -> None:
        """Close the connection (connect) or the server and every client (listen); joins the I/O thread."""
        self._closed.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._thread is not None:
            self._wake()
            self._thread.join(5)
            self._thread = None
        for s in (self._wake_r, self._wake_w):
            if s is not None:
                s.close()
        self._wake_r = self._wake_w = None


@options(UdpOptions)
class UdpSink:
    """One datagram per event: a line of canonical JSON.

    :param config: a :class:`UdpOptions` or its section as a plain dict.
    """

    def __init__(self, config: UdpOptions | Any = None) -> None:
        opts = sink_options(UdpOptions, config)
        self.options = opts
        self.host = opts.host
        self.port = opts.port
        self._udp = UdpSender(self.host, self.port)

    def open(self) -> None:
        """Resolve the address and open the socket."""
        self._udp.open()

    def send(self, event: GestureEvent) -> None:
        """Send the event as one datagram."""
        self._udp.send((event.to_json() + "\n").encode())

    def close(self) -> None:
        """Close the socket."""
        self._udp.close()


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"tcp": TcpSink, "udp": UdpSink}
