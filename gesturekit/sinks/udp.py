"""One UDP socket sending datagrams to one host and port (OSC and UDP sinks)."""

from __future__ import annotations

import socket
from collections.abc import Iterable
from typing import Any

__all__ = ["UdpSender"]


class UdpSender:
    """One UDP socket sending datagrams to ``host:port`` (resolved once, at :meth:`open`)."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._sock: socket.socket | None = None
        self._addr: Any = None

    def open(self) -> None:
        """Resolve the address and open the socket (raises ``OSError`` for an unknown host)."""
        family, _, _, _, addr = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_DGRAM)[0]
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        self._addr = addr

    def send(self, datagrams: bytes | Iterable[bytes]) -> None:
        """Send one datagram or several, opening the socket first if needed."""
        if self._sock is None:
            self.open()
        assert self._sock is not None
        for d in [datagrams] if isinstance(datagrams, bytes) else datagrams:
            self._sock.sendto(d, self._addr)

    def close(self) -> None:
        """Close the socket (idempotent)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
