"""Who may talk to a server: the loopback rule, tokens read from requests, compared in constant time.

A server that listens beyond loopback needs a token (:func:`require_token_off_loopback`).
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from gesturekit._exceptions import ConfigError

__all__ = ["is_loopback", "needs_token", "origin_allowed", "require_token_off_loopback", "request_token",
           "token_matches"]

#: Host names of pages on this machine (their Origin is accepted by local servers).
_LOCAL_ORIGIN_HOSTS = ("localhost", "127.0.0.1", "::1")


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


def _norm_origin(origin: str) -> str:
    return origin.strip().rstrip("/").lower()


def origin_allowed(origin: str | None, allowed: Any = ()) -> bool:
    """The Origin rule of gesturekit's servers: no header, a page on localhost / 127.0.0.1 / [::1], or an origin
    listed in ``allowed`` (``"*"`` = any). ``null`` (sandboxed iframes on any site, local files)
    is foreign: accepted only when ``allowed`` lists ``"null"`` (or ``"*"``)."""
    if origin is None:
        return True
    o = _norm_origin(origin)
    if "*" in allowed or o in allowed:
        return True
    if o == "null":
        return False
    try:
        host = urlsplit(o).hostname or ""
    except ValueError:  # e.g. an unbalanced "[" in the header
        return False
    return host in _LOCAL_ORIGIN_HOSTS or (host.startswith("127.") and is_loopback(host))
