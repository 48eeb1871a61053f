"""The daemon's sinks over their life: checked, started on the bus, swapped on a reload, and
the ones that failed to (re)start remembered (and shown in the status) until they start."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from typing import Any

from gesturekit._exceptions import GestureKitError
from gesturekit.bus import EventBus, sink_connected
from gesturekit.settings import Settings

__all__ = ["SinkSet", "start_error"]

log = logging.getLogger("gesturekit.daemon")


def start_error(name: str, e: BaseException) -> GestureKitError:
    """One line for a sink whose ``open()`` (or its registration on the bus) raised."""
    if isinstance(e, GestureKitError):
        return e
    if isinstance(e, OSError):
        return GestureKitError(f"sink {name!r} could not start: {e.strerror or e}")
    return GestureKitError(f"sink {name!r} could not start: {type(e).__name__}: {e}")


class SinkSet:
    """Named sinks (constructed, not yet open) and, once :meth:`start` ran, the bus they are on.

    :param sinks: name -> sink object, as the chain built them.
    """

    def __init__(self, sinks: Mapping[str, Any]) -> None:
        self.sinks: dict[str, Any] = dict(sinks)
        self.failed: dict[str, str] = {}  # sinks that could not (re)start on a reload: name -> why
        self.bus: EventBus | None = None

    def check(self) -> None:
        """Open and close every sink (what ``daemon --check`` does): a port in use, a bad setting
        only ``open()`` sees or a missing display fail here.

        :raises GestureKitError: one line naming the first sink that could not start.
        """
        for name, sink in self.sinks.items():
            try:
                if callable(getattr(sink, "open", None)):
                    sink.open()
            except Exception as e:
                raise start_error(name, e) from None
            close = getattr(sink, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as e:
                    raise GestureKitError(f"sink {name!r} failed to close: {type(e).__name__}: {e}") from None

    def start(self, bus: EventBus, settings: Settings) -> None:
        """Put every sink on ``bus`` (which opens them); the first that fails is one line."""
        self.bus = bus
        for name, sink in self.sinks.items():
            self._add(name, sink, settings)

    def _add(self, name: str, sink: Any, settings: Settings) -> None:
        section = settings.sinks[name]
        try:
            self.bus.add_sink(name, sink, queue_size=section.queue_size, durable=section.durable)
        except Exception as e:  # a third-party sink may raise anything: one line, never a traceback
            raise start_error(name, e) from None

    def _replace(self, name: str, sink: Any, settings: Settings) -> None:
        section = settings.sinks[name]
        try:
            self.bus.replace_sink(name, sink, timeout=settings.bus.drain_timeout, queue_size=section.queue_size,
                                  durable=section.durable)
        except Exception as e:
            raise start_error(name, e) from None

    def apply(self, fresh: Mapping[str, Any], removed: Iterable[str], settings: Settings) -> dict[str, list[str]]:
        """A reload's sink changes: close ``removed``, restart changed sinks behind their queue
        (nothing queued is lost), add new ones. A sink that fails is logged, remembered in
        :attr:`failed` and keeps its queue. Returns ``{"started", "restarted", "failed", "removed"}``."""
        drain = settings.bus.drain_timeout
        removed = list(removed)
        for n in removed:
            self.bus.remove_sink(n, drain)
            self.sinks.pop(n, None)
            self.failed.pop(n, None)
        out: dict[str, list[str]] = {"started": [], "restarted": [], "failed": [], "removed": removed}
        on_bus = set(self.bus.sink_names)
        for n, sink in fresh.items():
            try:
                if n in on_bus:  # same queue, new sink object
                    self._replace(n, sink, settings)
                    out["restarted"].append(n)
                else:
                    self._add(n, sink, settings)
                    out["started"].append(n)
                self.sinks[n] = sink
                self.failed.pop(n, None)
            except GestureKitError as e:
                log.error("reload: %s; its events are %s; it is retried at the next SIGHUP", e,
                          "queued" if n in on_bus else "not delivered")
                self.failed[n] = str(e)
                out["failed"].append(n)
        return out

    def warn_disconnected(self, names: Iterable[str], stop: threading.Event | None = None,
                          grace: float = 1.0) -> list[str]:
        """Log a warning for each named sink that reports ``connected`` false (after ``grace`` s
        for connections in progress); returns those names."""
        names = list(names)
        deadline = time.monotonic() + grace
        while True:
            down = [n for n in names if n in self.bus.sink_names and sink_connected(self.bus.sink(n)) is False]
            if not down or time.monotonic() >= deadline or (stop is not None and stop.is_set()):
                break
            time.sleep(0.05)
        for n in down:
            sink = self.bus.sink(n)
            durable = bool(self.bus.stats().get(n, {}).get("durable"))
            log.warning("sink %r is not connected%s; %s until it connects", n,
                        f" ({sink.last_error})" if getattr(sink, "last_error", "") else "",
                        "its events are queued" if durable else "its events may be lost")
        return down

    def status(self) -> dict[str, Any]:
        """Per-sink counters from the bus, plus ``state: failed`` and the error of failed sinks."""
        out = self.bus.stats() if self.bus is not None else {}
        for name, err in dict(self.failed).items():
            d = out.setdefault(name, {"delivered": 0, "dropped": 0, "errors": 0, "reconnects": 0, "queued": 0})
            d["state"], d["last_error"] = "failed", err
        return out
