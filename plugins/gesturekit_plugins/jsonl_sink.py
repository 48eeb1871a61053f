"""The ``jsonl`` sink: appends one canonical JSON line per GestureEvent to a file.

Each line is flushed as it is written. With ``fsync_interval: 0`` every event is fsynced;
otherwise written lines are fsynced at most ``fsync_interval`` seconds after they were written,
by the next event or, when no event follows, by a timer. The file is opened for appending, so a
restarted daemon continues it; a torn last line left by a crash is cut off first. A relative
``path`` in a daemon config is resolved against the config file's folder.

Config::

    type: jsonl
    path: events.jsonl        # required
    fsync_interval: 1.0       # seconds, 0 = fsync every event
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from typing import IO, Any

from gesturekit import ConfigError, GestureEvent, InputError, hookimpl
from gesturekit.sinks import check_number, check_options

log = logging.getLogger("gesturekit.sinks.jsonl")


class JsonlSink:
    """Appends events as JSON lines; durable (the bus retries a failed write)."""

    durable = True

    def __init__(self, config: Mapping[str, Any]) -> None:
        check_options(config, ("path", "fsync_interval"), "the jsonl sink")
        path = config.get("path")
        if not path or not isinstance(path, str):
            raise ConfigError("the jsonl sink needs a file name", field="path")
        self.path = os.path.expanduser(path)
        self.fsync_interval = check_number(config, "fsync_interval", 1.0, minimum=0, unit="seconds")
        self._f: IO[str] | None = None
        self._lock = threading.Lock()  # the bus worker writes; the timer fsyncs
        self._last_sync = 0.0
        self._dirty = False
        self._timer: threading.Timer | None = None
        self.fsyncs = 0

    def open(self) -> None:
        """Open the file for appending, cutting off a torn last line first.

        :raises InputError: naming the file when it cannot be created or written.
        """
        try:
            d = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(d, exist_ok=True)
            if os.path.exists(self.path):
                self._repair()
            f = open(self.path, "a", encoding="utf-8")
        except OSError as e:
            raise InputError(f"jsonl sink: cannot write {self.path}: {e.strerror or e}") from None
        with self._lock:
            self._f = f
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
        """Append and flush one line; fsync now or arm the timer (see the module docstring)."""
        if self._f is None:
            self.open()
        line = event.to_json() + "\n"
        with self._lock:
            assert self._f is not None
            self._f.write(line)
            self._f.flush()
            self._dirty = True
            now = time.monotonic()
            if self.fsync_interval == 0 or now - self._last_sync >= self.fsync_interval:
                self._fsync_locked(now)
            elif self._timer is None:  # an idle stream still gets its lines to disk in time
                self._timer = threading.Timer(self._last_sync + self.fsync_interval - now, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def _fsync_locked(self, now: float) -> None:
        assert self._f is not None
        os.fsync(self._f.fileno())
        self._last_sync, self._dirty = now, False
        self.fsyncs += 1

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if self._f is not None and self._dirty:
                try:
                    self._fsync_locked(time.monotonic())
                except OSError as e:
                    log.error("%s: fsync failed: %s", self.path, e.strerror or e)

    def status(self) -> dict[str, Any]:
        """``{"path", "fsyncs", "unsynced"}``."""
        return {"path": self.path, "fsyncs": self.fsyncs, "unsynced": self._dirty}

    def close(self) -> None:
        """Flush, fsync what is not yet on disk, and close the file."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._f is not None:
                self._f.flush()
                if self._dirty:
                    self._fsync_locked(time.monotonic())
                self._f.close()
                self._f = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"jsonl": JsonlSink}
