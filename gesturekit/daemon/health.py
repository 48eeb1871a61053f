"""The daemon's status endpoint: ``GET /status`` (or ``/health``) returns JSON, on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from gesturekit._exceptions import InputError
from gesturekit.sinks import request_token, token_matches

__all__ = ["HealthServer"]

log = logging.getLogger("gesturekit.daemon")


class HealthServer:
    """Serves ``status()`` as JSON at ``/status`` and ``/health`` in a background thread.

    :param token: when set, requests need ``Authorization: Bearer TOKEN`` or ``?token=TOKEN``.
    """

    def __init__(self, status: Callable[[], dict[str, Any]], host: str = "127.0.0.1", port: int = 8766,
                 token: str | None = None) -> None:
        self.status, self.host, self.token = status, host, token
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                url = urlsplit(self.path)
                if outer.token and not token_matches(request_token(self.path, self.headers), outer.token):
                    self._reply(401, {"error": "wrong or missing token"})
                    return
                if url.path not in ("/", "/status", "/health"):
                    self._reply(404, {"error": "not found; try /status"})
                    return
                try:
                    body = outer.status()
                except Exception as e:  # the status page must not take the daemon down
                    self._reply(500, {"error": f"{type(e).__name__}: {e}"})
                    return
                self._reply(200, body)

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                data = (json.dumps(body, indent=1, default=str) + "\n").encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                log.debug("status endpoint: " + format, *args)

        try:
            self._server = ThreadingHTTPServer((host, port), Handler)
        except OSError as e:
            raise InputError(f"status endpoint: cannot listen on {host}:{port}: {e.strerror} (set health.port, "
                             "or health.enabled: false)") from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name="gesturekit-health", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/status"

    def start(self) -> None:
        self._thread.start()
        log.info("status endpoint on %s", self.url)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
