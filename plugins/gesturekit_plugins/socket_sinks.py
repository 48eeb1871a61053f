"""The ``tcp`` and ``udp`` sinks: newline-delimited canonical JSON over plain sockets.

``tcp`` connects to a listening peer (``mode: connect``, the default; reconnects with backoff
and, being durable, loses no event while the peer is away) or listens itself for any number
of clients (``mode: listen``; 127.0.0.1 by default, other addresses need a ``token`` that a
client sends as its first line). ``udp`` sends one datagram (one JSON line) per event.

Config::

    type: tcp
    mode: connect            # or listen
    host: 127.0.0.1
    port: 9000
    token: ...               # listen mode on a non-loopback host: required

    type: udp
    host: 127.0.0.1
    port: 9001
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any

from gesturekit import ConfigError, GestureEvent, InputError, hookimpl

log = logging.getLogger("gesturekit.sinks.socket")


def _port(config: Mapping[str, Any], allow_zero: bool = False) -> int:
    port = config.get("port")
    lo = 0 if allow_zero else 1
    if not isinstance(port, int) or not lo <= port <= 65535:
        raise ConfigError(f"needs a port number {lo}..65535", field="port")
    return port


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class TcpSink:
    """Newline-delimited JSON over TCP, as a client (``connect``) or a server (``listen``)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.mode = config.get("mode", "connect")
        if self.mode not in ("connect", "listen"):
            raise ConfigError("must be 'connect' or 'listen'", field="mode")
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = _port(config, allow_zero=self.mode == "listen")
        self.token = config.get("token")
        if self.mode == "listen" and not _is_loopback(self.host) and not self.token:
            raise ConfigError(f"listening on {self.host} is reachable from the network; set a token "
                              "(or use host: 127.0.0.1)", field="token")
        self.timeout = float(config.get("timeout", 2.0))
        self.durable = self.mode == "connect"
        self.reconnects = 0
        self._sock: socket.socket | None = None
        self._connected_once = False
        self._next_try = 0.0
        self._backoff = 0.2
        self._server: socket.socket | None = None
        self._clients: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()

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

    # listen mode ------------------------------------------------------------------------------
    def open(self) -> None:
        if self.mode != "listen":
            return
        try:
            srv = socket.create_server((self.host, self.port), reuse_port=False)
        except OSError as e:
            raise InputError(f"tcp sink: cannot listen on {self.host}:{self.port}: {e.strerror}") from None
        srv.settimeout(0.2)
        self._server = srv
        self.port = srv.getsockname()[1]
        threading.Thread(target=self._accept, name="gesturekit-tcp-accept", daemon=True).start()
        log.info("tcp sink listening on %s:%d", self.host, self.port)

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closed.is_set():
            try:
                c, addr = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            c.settimeout(self.timeout)
            if self.token:
                try:
                    line = c.makefile("rb").readline(4096).strip()
                except OSError:
                    line = b""
                if not hmac.compare_digest(line, str(self.token).encode()):
                    log.warning("tcp client %s refused: wrong or missing token", addr)
                    c.close()
                    continue
            with self._lock:
                self._clients.append(c)

    def status(self) -> dict[str, Any]:
        if self.mode == "listen":
            return {"clients": len(self._clients), "address": f"{self.host}:{self.port}"}
        return {"connected": self._sock is not None}

    def send(self, event: GestureEvent) -> None:
        data = (event.to_json() + "\n").encode()
        if self.mode == "listen":
            with self._lock:
                clients = list(self._clients)
            for c in clients:
                try:
                    c.sendall(data)
                except OSError:  # a vanished or stuck client is dropped; the others go on
                    with self._lock:
                        if c in self._clients:
                            self._clients.remove(c)
                    c.close()
            return
        if self._sock is None:
            self._sock = self._connect()
        try:
            self._sock.sendall(data)
        except OSError:
            self._sock.close()
            self._sock = None
            raise

    def close(self) -> None:
        self._closed.set()
        if self._sock is not None:
            self._sock.close()
            self._sock = None
        if self._server is not None:
            self._server.close()
        with self._lock:
            for c in self._clients:
                c.close()
            self._clients.clear()


class UdpSink:
    """One datagram per event: a line of canonical JSON."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = _port(config)
        self._sock: socket.socket | None = None

    def open(self) -> None:
        family, _, _, _, addr = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._addr = addr

    def send(self, event: GestureEvent) -> None:
        if self._sock is None:
            self.open()
        assert self._sock is not None
        self._sock.sendto((event.to_json() + "\n").encode(), self._addr)

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"tcp": TcpSink, "udp": UdpSink}
