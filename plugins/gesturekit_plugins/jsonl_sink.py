"""The ``jsonl`` sink: appends one canonical JSON line per GestureEvent to a file.

Each line is flushed as it is written. With ``fsync_interval: 0`` every event is fsynced;
otherwise written lines are fsynced at most ``fsync_interval`` seconds after they were written,
by the next event or, when no event follows, by a timer. The file is opened for appending, so a
restarted daemon continues it; a torn last line left by a crash is cut off first. A relative
``path`` in a daemon config is resolved against the config file's folder.

Exactly once: a write that fails part-way (a full disk, an I/O error) is cut back to the end of
the last whole line before the error is raised, and so is a line whose fsync failed, so the
bus's retry of that event writes it once and every ``seq`` appears in the file once.

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
from typing import Any

from pydantic import Field

from gesturekit import ConfigPath, GestureEvent, InputError, PluginOptions, hookimpl, options
from gesturekit.sinks import sink_options

log = logging.getLogger("gesturekit.sinks.jsonl")


class JsonlOptions(PluginOptions):
    """Options of the ``jsonl`` sink."""

    path: ConfigPath = Field(min_length=1, description="the file events are appended to (created with its folder)")
    fsync_interval: float = Field(1.0, ge=0, strict=True, allow_inf_nan=False,
                                  description="seconds a written line may wait for its fsync (0 = every event)")


@options(JsonlOptions)
class JsonlSink:
    """Appends events as JSON lines; durable (the bus retries a failed write).

    :param config: a :class:`JsonlOptions` or its section as a plain dict.
    """

    durable = True

    def __init__(self, config: JsonlOptions | Any = None) -> None:
        opts = sink_options(JsonlOptions, config)
        self.options = opts
        self.path = os.path.expanduser(opts.path)
        self.fsync_interval = float(opts.fsync_interval)
        self._fd: int | None = None
        self._good = 0  # file size at the end of the last whole line written
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
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
            good = os.fstat(fd).st_size
        except OSError as e:
            raise InputError(f"jsonl sink: cannot write {self.path}: {e.strerror or e}") from None
        with self._lock:
            self._fd, self._good = fd, good
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
        if self._fd is None:
            self.open()
        data = (event.to_json() + "\n").encode("utf-8")
        with self._lock:
            assert self._fd is not None
            start = self._good
            self._write_locked(data, start)
            self._dirty = True
            now = time.monotonic()
            if self.fsync_interval == 0 or now - self._last_sync >= self.fsync_interval:
                try:
                    self._fsync_locked(now)
                except OSError:
                    self._cut_back_locked(start)  # the retry writes this line again, once
                    raise
            elif self._timer is None:  # an idle stream still gets its lines to disk in time
                self._timer = threading.Timer(self._last_sync + self.fsync_interval - now, self._on_timer)
                self._timer.daemon = True
                self._timer.start()

    def _write_locked(self, data: bytes, start: int) -> None:
        """Write all of ``data`` at the end of the file, or none of it: a write that fails
        part-way (``ENOSPC``) is cut back to ``start`` before the error is raised."""
        assert self._fd is not None
        view, done = memoryview(data), 0
        try:
            while done < len(data):
                done += os.write(self._fd, view[done:])
        except OSError:
            self._cut_back_locked(start)
            raise
        self._good = start + len(data)

    def _cut_back_locked(self, start: int) -> None:
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, start)
            self._good = start
        except OSError as e:  # cannot happen on a local file system; say so if it does
            log.error("%s: could not cut a failed write back to %d bytes: %s", self.path, start, e.strerror or e)
            self._good = os.fstat(self._fd).st_size

    def _fsync_locked(self, now: float) -> None:
        assert self._fd is not None
        os.fsync(self._fd)
        self._last_sync, self._dirty = now, False
        self.fsyncs += 1

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if self._fd is not None and self._dirty:
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
            if self._fd is not None:
                try:
                    if self._dirty:
                        self._fsync_locked(time.monotonic())
                finally:
                    os.close(self._fd)
                    self._fd = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"jsonl": JsonlSink}
