"""The daemon's status endpoint: ``GET /status`` (or ``/health``) returns JSON, on 127.0.0.1.

Only requests whose ``Host`` header names this server are answered (``127.0.0.1``,
``localhost``, ``[::1]``, any loopback address, the configured host, or one of
``allowed_hosts``; any port): a web page that re-points its own DNS name at 127.0.0.1 (DNS
rebinding) gets HTTP 403 instead of the status. A request without a ``Host`` header (HTTP/1.0
tools; browsers always send one) is answered. On a wildcard address (``0.0.0.0``, ``::``) an IP
address as the ``Host`` and this machine's host name are accepted too (rebinding needs a DNS name).

Connections that reset, vanish half-way or stay silent (closed after :data:`REQUEST_TIMEOUT` s)
cost one DEBUG line, never a traceback on stderr. :func:`check_port_free` tells ``daemon
--check`` whether the port can be bound.

With a :class:`~gesturekit.daemon.dashboard.Dashboard` it also serves the web dashboard:
``/dashboard/`` (its static files: no token needed, they are the package's own) and
``/dashboard/stream`` (Server-Sent Events: needs the token like ``/status``). A request that
carries an ``Origin`` header (a browser) is answered only for this server's own pages, pages on
``localhost`` / ``127.0.0.1`` / ``[::1]`` and the dashboard's ``origins``; ``Origin: null``
(sandboxed frames, local files) is refused.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from gesturekit._exceptions import InputError
from gesturekit.sinks import is_loopback, request_token, token_matches
from gesturekit.sinks import origin_allowed as local_or_listed

if TYPE_CHECKING:
    from gesturekit.daemon.dashboard import Dashboard

__all__ = ["HealthServer", "check_port_free", "host_allowed", "origin_allowed"]

log = logging.getLogger("gesturekit.daemon")

#: Seconds a client may take to send its request before the connection is closed.
REQUEST_TIMEOUT = 10.0

_WILDCARDS = ("", "0.0.0.0", "::")


class _Server(ThreadingHTTPServer):
    """An HTTP server that reports a failed connection as one line instead of a traceback."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        err = sys.exc_info()[1]
        level = logging.DEBUG if isinstance(err, (OSError, EOFError)) else logging.WARNING
        log.log(level, "status endpoint: connection from %s failed: %s: %s", client_address,
                type(err).__name__, err)


def _bind(host: str, port: int, handler: type[BaseHTTPRequestHandler]) -> _Server:
    """The status server bound to ``host:port`` (not serving yet); :class:`InputError` when it cannot."""
    cls = _Server
    if ":" in host:
        cls = type("_Server6", (_Server,), {"address_family": socket.AF_INET6})
    try:
        return cls((host, port), handler)
    except OSError as e:
        raise InputError(f"status endpoint: cannot listen on {host}:{port}: {e.strerror or e} (set health.port, "
                         "or health.enabled: false)") from None


def check_port_free(host: str = "127.0.0.1", port: int = 8766) -> None:
    """Bind the status endpoint's address and let it go again (what ``daemon --check`` runs):
    raises the same :class:`InputError` as :class:`HealthServer` when the port is in use or the
    address is not this machine's."""
    _bind(host, port, BaseHTTPRequestHandler).server_close()


def _host_name(header: str) -> str | None:
    """The host of a ``Host`` header (``[::1]:8766`` -> ``::1``), lower case; None when malformed."""
    h = header.strip().lower()
    if h.startswith("["):
        end = h.find("]")
        if end < 0:
            return None
        name, rest = h[1:end], h[end + 1:]
    else:
        name, colon, port = h.partition(":")
        rest = colon + port
    if rest and not (rest.startswith(":") and rest[1:].isdigit()):
        return None
    return name or None


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def host_allowed(header: str | None, host: str = "127.0.0.1", allowed_hosts: Iterable[str] = ()) -> bool:
    """Whether a request with this ``Host`` header may be answered by a server bound to ``host``."""
    if header is None:
        return True
    name = _host_name(header)
    if name is None:
        return False
    bound = host.strip("[]").lower()
    if is_loopback(name) or name == bound or name in {h.strip("[]").lower() for h in allowed_hosts}:
        return True
    return bound in _WILDCARDS and (_is_ip(name) or name == socket.gethostname().lower())


def origin_allowed(origin: str | None, host_header: str | None, allowed: Iterable[str] = ()) -> bool:
    """Whether a browser page from ``origin`` may read this server: no ``Origin`` (not a
    browser page, or a same-origin GET), this server's own origin (``http://`` + ``Host``), a
    local page (the WebSocket sink's rule) or one of ``allowed`` (``"*"`` = any). ``null`` is
    foreign unless ``allowed`` lists it."""
    if origin is None:
        return True
    o = origin.strip().rstrip("/").lower()
    if host_header and o == f"http://{host_header.strip().lower()}":
        return True
    return local_or_listed(o, frozenset(allowed))


class HealthServer:
    """Serves ``status()`` as JSON at ``/status`` and ``/health`` in a background thread.

    :param token: when set, requests need ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``.
    :param allowed_hosts: names besides the local ones and ``host`` that the ``Host`` header may carry.
    :param dashboard: serve this dashboard at ``/dashboard/`` (closed with the server).

    The address is bound here (:class:`InputError` when it cannot be); :meth:`close` releases
    it whether or not :meth:`start` was called.
    """

    def __init__(self, status: Callable[[], dict[str, Any]], host: str = "127.0.0.1", port: int = 8766,
                 token: str | None = None, allowed_hosts: Iterable[str] = (),
                 dashboard: Dashboard | None = None) -> None:
        self.status, self.host, self.token = status, host, token
        self.allowed_hosts = tuple(allowed_hosts)
        self.dashboard = dashboard
        self.refused_host = self.refused_origin = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_TIMEOUT  # a silent (half-open) client does not hold a thread forever

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                hosts = self.headers.get_all("Host") or []
                if len(hosts) > 1 or not host_allowed(hosts[0] if hosts else None, outer.host,
                                                      outer.allowed_hosts):
                    outer.refused_host += 1
                    log.debug("status endpoint: refused a request for Host %r", hosts)
                    self._reply(403, {"error": "this Host is not allowed (DNS rebinding?)"})
                    return
                origins = self.headers.get_all("Origin") or []
                dash = outer.dashboard
                if len(origins) > 1 or not origin_allowed(origins[0] if origins else None, hosts[0] if hosts else None,
                                                          dash.origins if dash is not None else ()):
                    outer.refused_origin += 1
                    log.debug("status endpoint: refused a request from Origin %r", origins)
                    self._reply(403, {"error": "this Origin is not allowed"})
                    return
                if dash is not None and url.path == "/dashboard":
                    self._redirect("/dashboard/" + (f"?{url.query}" if url.query else ""))
                    return
                if dash is not None and url.path.startswith("/dashboard/") and url.path != "/dashboard/stream":
                    from gesturekit.daemon.dashboard import static_file

                    found = static_file(url.path[len("/dashboard/"):])
                    if found is None:
                        self._reply(404, {"error": "not found; try /dashboard/"})
                    else:
                        self._send(200, *found)
                    return
                if outer.token and not token_matches(request_token(self.path, self.headers), outer.token):
                    self._reply(401, {"error": "wrong or missing token"})
                    return
                if dash is not None and url.path == "/dashboard/stream":
                    self._stream(dash)
                    return
                if url.path not in ("/", "/status", "/health"):
                    self._reply(404, {"error": "not found; try /status" + (" or /dashboard/" if dash else "")})
                    return
                try:
                    body = outer.status()
                    if dash is not None:
                        body = {**body, "dashboard": dash.status()}
                except Exception as e:  # the status page must not take the daemon down
                    self._reply(500, {"error": f"{type(e).__name__}: {e}"})
                    return
                self._reply(200, body)

            def _stream(self, dash: Dashboard) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.end_headers()
                self.close_connection = True
                dash.stream(self.wfile)

            def _redirect(self, where: str) -> None:
                self.send_response(301)
                self.send_header("Location", where)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _send(self, code: int, data: bytes, ctype: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
                                                            "frame-ancestors 'none'")
                self.end_headers()
                self.wfile.write(data)

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                from gesturekit.daemon.dashboard import strict_json

                data = (strict_json(body, indent=1) + "\n").encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("status endpoint: " + format, *args)

        self._server = _bind(host, port, Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="gesturekit-health", daemon=True)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/status"

    def start(self) -> None:
        self._thread.start()
        log.info("status endpoint on %s", self.url)
        if self.dashboard is not None:
            log.info("dashboard on %s%s", self.dashboard_url, "?token=..." if self.token else "")

    @property
    def dashboard_url(self) -> str:
        """Where the dashboard page is (add ``?token=...`` when the server has a token)."""
        return self.url.rsplit("/", 1)[0] + "/dashboard/"

    def close(self) -> None:
        """Stop serving: dashboard streams end first (after what they have queued), then the port."""
        if self.dashboard is not None:
            self.dashboard.close()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
