"""The ``jsonl`` sink: appends one canonical JSON line per GestureEvent to a file.

Each line is flushed as it is written, and the file is fsynced at most every
``fsync_interval`` seconds (``0`` = after every event). The file is opened for appending,
so a restarted daemon continues it; a torn last line left by a crash is cut off first.

Config::

    type: jsonl
    path: events.jsonl        # required
    fsync_interval: 1.0       # seconds, 0 = fsync every event
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping
from typing import IO, Any

from gesturekit import ConfigError, GestureEvent, hookimpl

log = logging.getLogger("gesturekit.sinks.jsonl")


class JsonlSink:
    """Appends events as JSON lines; durable (the bus retries a failed write)."""

    durable = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        path = config.get("path")
        if not path or not isinstance(path, str):
            raise ConfigError("the jsonl sink needs a file name", field="path")
        interval = config.get("fsync_interval", 1.0)
        if not isinstance(interval, (int, float)) or interval < 0:
            raise ConfigError("must be a number of seconds >= 0", field="fsync_interval")
        self.path = os.path.expanduser(path)
        self.fsync_interval = float(interval)
        self._f: IO[str] | None = None
        self._last_sync = 0.0
        self._dirty = False

    def open(self) -> None:
        """Open the file for appending, cutting off a torn last line first."""
        d = os.path.dirname(os.path.abspath(self.path))
        os.makedirs(d, exist_ok=True)
        if os.path.exists(self.path):
            self._repair()
        self._f = open(self.path, "a", encoding="utf-8")
        self._last_sync = time.monotonic()

    def _repair(self) -> None:
        with open(self.path, "rb+") as f:
            size = f.seek(0, os.SEEK_END)
            if size == 0:
                return
            f.seek(size - 1)
            if f.read(1) == b"\n":
                return
            pos = size
            while pos > 0:  # find the last newline, in blocks
                step = min(65536, pos)
                f.seek(pos - step)
                block = f.read(step)
                i = block.rfind(b"\n")
                if i >= 0:
                    pos = pos - step + i + 1
                    break
                pos -= step
            f.truncate(pos)
            log.warning("%s: cut off an incomplete last line (%d bytes) left by an interrupted write",
                        self.path, size - pos)

    def send(self, event: GestureEvent) -> None:
        if self._f is None:
            self.open()
        assert self._f is not None
        self._f.write(event.to_json() + "\n")
        self._f.flush()
        self._dirty = True
        now = time.monotonic()
        if self.fsync_interval == 0 or now - self._last_sync >= self.fsync_interval:
            os.fsync(self._f.fileno())
            self._last_sync, self._dirty = now, False

    def close(self) -> None:
        if self._f is not None:
            self._f.flush()
            if self._dirty:
                os.fsync(self._f.fileno())
            self._f.close()
            self._f = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"jsonl": JsonlSink}
