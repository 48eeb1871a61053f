"""Helpers for sinks and servers: config checks, loopback and token rules, a UDP sender.

Public API for plugin authors (first-party sinks use only this and the rest of ``gesturekit``):

* :func:`check_options` — reject unknown keys of a sink section (catches typos such as
  ``tokn: s3cret``) with a :class:`~gesturekit.ConfigError` naming the field;
* :func:`check_port`, :func:`check_number`, :func:`check_bool`, :func:`check_template` — typed
  setting checks;
* :func:`is_loopback`, :func:`needs_token`, :func:`require_token_off_loopback` — the rule that a
  server reachable from the network needs a token;
* :func:`request_token`, :func:`token_matches` — read a token from ``?token=...`` or
  ``Authorization: Bearer ...`` and compare it in constant time;
* :class:`UdpSender` — one UDP socket to one host and port.
"""

from __future__ import annotations

import difflib
import hmac
import ipaddress
import socket
import string
from collections.abc import Collection, Iterable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ._exceptions import ConfigError

__all__ = ["check_options", "check_port", "check_number", "check_bool", "check_template", "is_loopback", "needs_token",
           "require_token_off_loopback", "request_token", "token_matches", "UdpSender"]

#: Keys every sink section may carry: the bus's own (the daemon strips them before the sink sees
#: its section, but code that builds a sink from a whole section passes them through).
BUS_KEYS = frozenset({"type", "enabled", "queue_size", "durable"})


def check_options(config: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """Raise :class:`ConfigError` (``field`` = the key) for a key of ``config`` not in ``known``.

    :param what: the sink's name for the message, e.g. ``"the jsonl sink"``.
    """
    allowed = set(known) | BUS_KEYS
    for key in config:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed - BUS_KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown option {key!r} for {what}{hint} (known: "
                              f"{', '.join(sorted(allowed - BUS_KEYS)) or 'none'})", field=str(key))


def check_port(config: Mapping[str, Any], default: int | None = None, *, allow_zero: bool = False,
               key: str = "port", what: str = "") -> int:
    """The port number at ``config[key]`` (``default`` when absent; ``None`` = required).

    :param allow_zero: accept ``0`` (a server binding any free port).
    """
    port = config.get(key, default)
    lo = 0 if allow_zero else 1
    if isinstance(port, bool) or not isinstance(port, int) or not lo <= port <= 65535:
        need = f"{what} needs" if what else "must be"
        raise ConfigError(f"{need} a port number {lo}..65535, got {port!r}", field=key)
    return port


def check_number(config: Mapping[str, Any], key: str, default: float | int, *, integer: bool = False,
                 minimum: float | None = None, maximum: float | None = None, unit: str = "") -> Any:
    """A number setting: ``config[key]`` or ``default``; an ``int`` when ``integer``.

    Booleans and strings are refused; ``minimum`` / ``maximum`` are inclusive bounds.
    """
    v = config.get(key, default)
    kind = "a whole number" if integer else "a number"
    ok = not isinstance(v, bool) and (isinstance(v, int) if integer else isinstance(v, (int, float)))
    if ok and minimum is not None and v < minimum:
        ok = False
    if ok and maximum is not None and v > maximum:
        ok = False
    if not ok:
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum:g}")
        if maximum is not None:
            bounds.append(f"<= {maximum:g}")
        rng = f" {' and '.join(bounds)}" if bounds else ""
        u = f" ({unit})" if unit else ""
        raise ConfigError(f"must be {kind}{rng}{u}, got {v!r}", field=key)
    return int(v) if integer else float(v)


def check_bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    """A true/false setting: ``config[key]`` or ``default`` (strings such as ``"no"`` are refused)."""
    v = config.get(key, default)
    if not isinstance(v, bool):
        raise ConfigError(f"must be true or false, got {v!r}", field=key)
    return v


def check_template(value: Any, placeholders: Collection[str], field: str, what: str = "a template") -> str:
    """Check that ``value`` is a string whose ``{placeholders}`` are all in ``placeholders``."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty string", field=field)
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as e:
        raise ConfigError(f"bad braces in {value!r}: {e}", field=field) from None
    allowed = ", ".join("{" + p + "}" for p in placeholders)
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in placeholders or spec or conv:
            raise ConfigError(f"unknown placeholder {{{name}}} in {value!r}; use {allowed}", field=field)
    return value


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback IP addresses (``127.0.0.0/8``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def needs_token(host: str, token: Any) -> bool:
    """True when a server on ``host`` would be reachable from the network without a token."""
    return not is_loopback(str(host)) and not token


def require_token_off_loopback(host: str, token: Any, what: str, field: str = "token") -> None:
    """Raise :class:`ConfigError` when a server on a non-loopback ``host`` has no ``token``."""
    if needs_token(host, token):
        raise ConfigError(f"{what} on {host} is reachable from the network: set a token, or use host: 127.0.0.1",
                          field=field)


def request_token(path: str, headers: Mapping[str, str] | Any) -> str:
    """The token a request carries: ``Authorization: Bearer TOKEN`` or else ``?token=TOKEN``
    (empty string when none). ``headers`` is any object with ``get(name, default)``."""
    auth = headers.get("Authorization", "") or ""
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return (parse_qs(urlsplit(path).query).get("token") or [""])[0]


def token_matches(given: str | bytes, expected: str | bytes) -> bool:
    """Constant-time comparison of a presented token with the configured one."""
    g = given.encode() if isinstance(given, str) else given
    e = expected.encode() if isinstance(expected, str) else expected
    return hmac.compare_digest(g, e)


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
