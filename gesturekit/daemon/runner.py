"""The daemon: source -> Pipeline -> EventBus -> sinks, with signals, reload and a status endpoint.

* SIGTERM / SIGINT: stop reading, send the ``end`` of active gestures, drain every sink's queue
  (up to ``bus.drain_timeout``), close the sinks (in parallel), exit 0. A second signal stops
  waiting: what is still queued is dropped (counted, logged) and the daemon exits 0 at once.
* SIGHUP: re-read the config. Sinks whose section did not change keep running (connected
  WebSocket clients stay connected); changed sinks are restarted behind their queue (nothing
  queued is lost), new ones added, removed ones closed; a sink that fails to (re)start is
  logged and retried at the next SIGHUP. ``seq`` keeps counting across reloads. A config that
  does not validate is logged and the running one is kept.
* A live source (camera, stream) that cannot be opened or stops is reopened with backoff and a
  log line; the daemon never exits because a camera went away.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import threading
import time
from typing import Any

from gesturekit._exceptions import ConfigError, GestureKitError, SourceError
from gesturekit.bus import EventBus, sink_connected
from gesturekit.chain.builder import Chain, ChainParts, build_sinks, redact_secrets
from gesturekit.chain.pipeline import Pipeline
from gesturekit.daemon.config import check_daemon_settings, daemon_gaps, load_config
from gesturekit.daemon.health import HealthServer
from gesturekit.settings import Settings
from gesturekit.sources import ThreadedReader
from gesturekit.util.retry import Backoff
from gesturekit.values import GestureEvent

__all__ = ["Daemon", "redact_secrets"]

log = logging.getLogger("gesturekit.daemon")

def _start_error(name: str, e: BaseException) -> GestureKitError:
    """One line for a sink whose ``open()`` raised."""
    if isinstance(e, GestureKitError):
        return e
    if isinstance(e, OSError):
        return GestureKitError(f"sink {name!r} could not start: {e.strerror or e}")
    return GestureKitError(f"sink {name!r} could not start: {type(e).__name__}: {e}")


def _strip_field(e: ConfigError) -> str:
    msg = str(e)
    if e.field and msg.startswith(f"{e.field}: "):
        msg = msg[len(e.field) + 2:]
    return msg


class Daemon:
    """Runs one validated :class:`DaemonConfig` until stopped.

    :param config: the validated config (see :func:`gesturekit.daemon.load_config`).
    :param install_signals: handle SIGTERM/SIGINT/SIGHUP (only possible on the main thread).
    """

    def __init__(self, config: Settings, install_signals: bool = True) -> None:
        self.install_signals = install_signals
        # the chain builds (and so validates) everything before anything starts; a config with
        # a bad section and no sink hears of both at once
        try:
            self.chain = Chain(config)
        except GestureKitError as e:
            gaps = daemon_gaps(config)
            if gaps:
                e.args = (f"{e}; and {'; and '.join(gaps)}",)
            raise
        self.config = check_daemon_settings(config)
        self.pm = self.chain.pm
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload_requested = False
        self._restart_source = threading.Event()
        self._pending_parts: ChainParts | None = None
        self._parts_lock = threading.Lock()
        self._signals = 0
        self._forced = False
        self._failed_sinks: dict[str, str] = {}  # sinks that could not (re)start on a reload
        self._fatal: BaseException | None = None
        self.bus: Any = None
        self.health: HealthServer | None = None
        self._started = time.time()
        self.source_name = ""
        self.source_state = "starting"
        self.source_reopens = 0
        self._source: Any = None
        self._reader: ThreadedReader | None = None
        self._pipe: Pipeline | None = None
        self._fps = 0.0
        self._last_frame_time = 0.0
        self.reloads = 0
        self._last_t, self._last_index = 0.0, -1
        self._t_offset, self._index_offset = 0.0, 0
        self._sinks = self.chain.sinks
        self._parts = self.chain.parts
        self._reload_errors = 0
        self._last_reload_error = ""

    # building ---------------------------------------------------------------------------------
    def build_sinks(self, config: Settings, names: list[str] | None = None) -> dict[str, Any]:
        """Construct (not open) the named sinks of ``config``; constructing validates them."""
        return build_sinks(self.pm, config, names)

    def check_sinks(self) -> None:
        """Open and close every sink of the config (what ``daemon --check`` does): a port in use,
        a bad setting only ``open()`` sees or a missing display fail here.

        :raises GestureKitError: one line naming the first sink that could not start.
        """
        for name, sink in self._sinks.items():
            try:
                if callable(getattr(sink, "open", None)):
                    sink.open()
            except Exception as e:
                raise _start_error(name, e) from None
            close = getattr(sink, "close", None)
            if callable(close):
                try:
                    close()
                except Exception as e:
                    raise GestureKitError(f"sink {name!r} failed to close: {type(e).__name__}: {e}") from None

    def build_parts(self, config: Settings) -> ChainParts:
        """Tracker options, classifiers, temporal engine and observers for ``config``."""
        return self.chain.build_parts(config)

    @staticmethod
    def _uri_is_live(config: Settings) -> bool:
        return bool(config.source is not None and config.source.live)

    def _open_source(self) -> Any:
        self.chain.settings = self.config
        return self.chain.open_source()

    # status -----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What ``gesturekit status`` and the status endpoint show."""
        src = self._source
        reconnects = self.source_reopens + int(getattr(src, "reconnects", 0) or 0)
        return {
            "status": "stopping" if self._stop.is_set() else "running",
            "pid": os.getpid(),
            "config": os.path.abspath(self.config.path),
            "uptime_s": round(time.time() - self._started, 3),
            "source": {"name": self.source_name, "state": self.source_state, "reconnects": reconnects,
                       "frames_dropped": int(getattr(self._reader, "dropped", 0) or 0)},
            "frames": self.frames,
            "fps": round(self._fps, 2),
            "events": self.events,
            "reloads": self.reloads,
            "plugin_errors": self.pm.failures.snapshot()["errors"],
            "plugins_disabled": self.pm.failures.snapshot()["disabled"],
            "reload_errors": self._reload_errors,
            "last_reload_error": self._last_reload_error,
            "sinks": self._sink_status(),
        }

    def _sink_status(self) -> dict[str, Any]:
        out = self.bus.stats() if self.bus is not None else {}
        for name, err in dict(self._failed_sinks).items():
            d = out.setdefault(name, {"delivered": 0, "dropped": 0, "errors": 0, "reconnects": 0, "queued": 0})
            d["state"], d["last_error"] = "failed", err
        return out

    # control ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the daemon to shut down (thread-safe; what SIGTERM does)."""
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        """Ask the daemon to re-read its config (thread-safe; what SIGHUP does)."""
        self._reload_requested = True
        self._wake.set()

    def force_stop(self) -> None:
        """Stop without waiting for queues to drain (thread-safe; a second SIGTERM/SIGINT)."""
        self._forced = True
        self.stop()
        if self.bus is not None:
            self.bus.force()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if signum == getattr(signal, "SIGHUP", None):
            log.info("SIGHUP: reloading %s", self.config.path)
            self.request_reload()
            return
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals == 1:
            log.info("%s: shutting down", name)
            self.stop()
        elif not self._forced:
            log.warning("%s again: exiting now; events still queued are dropped", name)
            self.force_stop()

    # run --------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run until SIGTERM/SIGINT, :meth:`stop`, or the end of a (non-looping) file source."""
        cfg = self.config
        previous = {}
        if self.install_signals and threading.current_thread() is threading.main_thread():
            for s in ("SIGTERM", "SIGINT", "SIGHUP"):
                if hasattr(signal, s):
                    previous[s] = signal.signal(getattr(signal, s), self._on_signal)
        thread = None
        try:
            self.bus = self.chain.bus = EventBus(queue_size=cfg.bus.queue_size, frame_rate=cfg.bus.frame_rate)
            for name, sink in self._sinks.items():
                self._add_sink(name, sink, cfg)
            self._warn_disconnected(list(self._sinks))
            if cfg.health.enabled:
                self.health = HealthServer(self.status, cfg.health.host, cfg.health.port, cfg.health.token)
                self.health.start()
            self.pm.hook.gesturekit_configure(config=redact_secrets(cfg.raw), plugin_config=dict(cfg.plugins))
            self.pm.hook.gesturekit_startup()
            thread = threading.Thread(target=self._pipeline_main, name="gesturekit-pipeline", daemon=True)
            thread.start()
            log.info("daemon running: source %s, sinks %s", cfg.source.uri or cfg.source.type,
                     ", ".join(self._sinks))
            self._main_loop(thread)
        finally:
            self._shutdown(thread)
            for s, h in previous.items():
                signal.signal(getattr(signal, s), h)
        if self._fatal is not None:
            if isinstance(self._fatal, GestureKitError):
                raise self._fatal
            raise GestureKitError(f"the pipeline failed: {type(self._fatal).__name__}: {self._fatal}")
        return 0

    def _add_sink(self, name: str, sink: Any, cfg: Settings) -> None:
        section = cfg.sinks[name]
        try:
            self.bus.add_sink(name, sink, queue_size=section.queue_size, durable=section.durable)
        except Exception as e:  # a third-party sink may raise anything: one line, never a traceback
            raise _start_error(name, e) from None

    def _replace_sink(self, name: str, sink: Any, cfg: Settings) -> None:
        section = cfg.sinks[name]
        try:
            self.bus.replace_sink(name, sink, timeout=cfg.bus.drain_timeout, queue_size=section.queue_size,
                                  durable=section.durable)
        except Exception as e:
            raise _start_error(name, e) from None

    def _warn_disconnected(self, names: list[str], grace: float = 1.0) -> None:
        """Log a warning for each sink that reports ``connected`` false (after ``grace`` s for
        connections in progress)."""
        deadline = time.monotonic() + grace
        while True:
            down = [n for n in names if n in self.bus.sink_names and sink_connected(self.bus.sink(n)) is False]
            if not down or time.monotonic() >= deadline or self._stop.is_set():
                break
            time.sleep(0.05)
        for n in down:
            sink = self.bus.sink(n)
            durable = bool(self.bus.stats().get(n, {}).get("durable"))
            log.warning("sink %r is not connected%s; %s until it connects", n,
                        f" ({sink.last_error})" if getattr(sink, "last_error", "") else "",
                        "its events are queued" if durable else "its events may be lost")

    def _main_loop(self, thread: threading.Thread) -> None:
        interval = self.config.bus.stats_interval
        next_stats = time.monotonic() + interval
        while True:
            self._wake.wait(0.5)
            self._wake.clear()
            if self._reload_requested:
                self._reload_requested = False
                self._reload()
            if self._stop.is_set() or not thread.is_alive():
                return
            if interval and time.monotonic() >= next_stats:
                next_stats = time.monotonic() + interval
                log.info("frames=%d fps=%.1f events=%d source=%s (%s)", self.frames, self._fps, self.events,
                         self.source_name, self.source_state)
                self.bus.log_stats()

    def _shutdown(self, thread: threading.Thread | None) -> None:
        self._stop.set()
        drain = self.config.bus.drain_timeout
        if thread is not None:
            deadline = time.monotonic() + min(5.0, max(1.0, drain))
            while thread.is_alive() and not self._forced and time.monotonic() < deadline:
                thread.join(0.05)
            if thread.is_alive() and not self._forced:
                log.warning("the pipeline did not stop in time (a source is stuck); shutting down anyway")
        if self.bus is not None:
            self.bus.close(drain)
        self.pm.hook.gesturekit_shutdown()
        if self.health is not None:
            self.health.close()
        if thread is not None:
            log.info("daemon stopped: %d frames, %d events", self.frames, self.events)

    # reload -----------------------------------------------------------------------------------
    def _reload(self) -> None:
        old = self.config
        try:
            new = load_config(old.path)
            if new.plugin_paths != old.plugin_paths:
                log.warning("plugin_paths changed: that takes a restart; the other changes are applied")
            # a sink that failed to (re)start on an earlier reload is tried again
            old_sinks, new_sinks = old.enabled_sinks(), new.enabled_sinks()
            changed = [n for n in new_sinks if old_sinks.get(n) != new_sinks[n] or n in self._failed_sinks]
            fresh = self.build_sinks(new, changed)
            parts = None
            if ((new.tracker, new.gestures, new.classifiers, new.temporal, new.observers)
                    != (old.tracker, old.gestures, old.classifiers, old.temporal, old.observers)
                    or self._uri_is_live(new) != self._uri_is_live(old)):
                parts = self.build_parts(new)
        except BaseException as e:  # a third-party factory may raise anything (even SystemExit)
            text = str(e) if isinstance(e, GestureKitError) else f"{type(e).__name__}: {e}"
            log.error("reload failed, keeping the running config: %s", text)
            self._reload_errors += 1
            self._last_reload_error = text[:300]
            return
        drain = new.bus.drain_timeout
        removed = [n for n in old_sinks if n not in new_sinks]
        for n in removed:
            self.bus.remove_sink(n, drain)
            self._sinks.pop(n, None)
            self._failed_sinks.pop(n, None)
        started, restarted, failed = [], [], []
        on_bus = set(self.bus.sink_names)
        for n, sink in fresh.items():
            try:
                if n in on_bus:  # same queue, new sink object: nothing queued is lost
                    self._replace_sink(n, sink, new)
                    restarted.append(n)
                else:
                    self._add_sink(n, sink, new)
                    started.append(n)
                self._sinks[n] = sink
                self._failed_sinks.pop(n, None)
            except GestureKitError as e:
                log.error("reload: %s; its events are %s; it is retried at the next SIGHUP", e,
                          "queued" if n in on_bus else "not delivered")
                self._failed_sinks[n] = str(e)
                failed.append(n)
        self._warn_disconnected(started + restarted)
        self.config = new
        if parts is not None:
            with self._parts_lock:
                self._pending_parts = parts
        if new.source != old.source:
            self._restart_source.set()
        self.reloads += 1
        kept = [n for n in new_sinks if n not in fresh]
        log.info("config reloaded: kept sinks [%s], restarted [%s], started [%s], removed [%s], failed [%s]",
                 ", ".join(kept), ", ".join(restarted), ", ".join(started), ", ".join(removed), ", ".join(failed))

    # pipeline thread --------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """Frames processed (counted by the chain)."""
        return self.chain.frames

    @property
    def events(self) -> int:
        """Events sent out (counted by the chain)."""
        return self.chain.events

    def _emit(self, events: list[GestureEvent]) -> None:
        self.chain.emit(events)

    def _make_pipe(self, parts: ChainParts) -> Pipeline:
        return self.chain.make_pipeline(parts)

    def _label_engine(self, pipe: Pipeline) -> None:
        """Events carry the current config's source label (a reload may change the source)."""
        if pipe.engine is not None and hasattr(pipe.engine, "source"):
            pipe.engine.source = self.config.source.label if self.config.source is not None else ""

    def _apply_pending_parts(self) -> None:
        """Swap in the pipeline of a reload: the old engine ends its gestures, the new one goes on
        counting ``seq`` where the old stopped, and the old pipeline is closed."""
        with self._parts_lock:
            parts, self._pending_parts = self._pending_parts, None
        if parts is None:
            return
        old = self._pipe
        try:
            new = self._make_pipe(parts)
        except Exception as e:
            log.error("reload: the new pipeline could not be built (%s: %s); keeping the running one",
                      type(e).__name__, e)
            return
        new.source_name = self.source_name
        if old is not None and old.engine is not None:
            self._emit(old.engine.finish(self._last_t))
            seq = getattr(old.engine, "next_seq", None)
            if seq is not None and new.engine is not None and hasattr(new.engine, "next_seq"):
                new.engine.next_seq = seq
        self._label_engine(new)
        self._pipe = new
        if old is not None:
            try:
                old.close()
            except Exception:
                log.exception("the replaced pipeline failed to close")

    def _pipeline_main(self) -> None:
        backoff = Backoff(0.5, 8.0)
        self._pipe = self._make_pipe(self._parts)
        try:
            while not self._stop.is_set():
                self._apply_pending_parts()
                if self._restart_source.is_set():  # a reload changed the source: end its gestures
                    self._restart_source.clear()
                    if self._pipe.engine is not None:
                        self._emit(self._pipe.engine.finish(self._last_t))
                live = self._uri_is_live(self.config)
                try:
                    source = self._open_source()
                except SourceError as e:
                    if not live:
                        raise
                    self.source_state = "unavailable"
                    delay = backoff.next()
                    log.warning("source unavailable (%s); retrying in %.1f s", e, delay)
                    self._stop.wait(delay)
                    self.source_reopens += 1
                    continue
                live = bool(getattr(source, "live", live))
                self._source, self.source_name = source, getattr(source, "name", "")
                self._pipe.source_name = self.source_name
                self._label_engine(self._pipe)
                self.source_state = "running"
                if self._last_index >= 0:  # a reopened or looping source: time and indices go on
                    self._t_offset, self._index_offset = self._last_t + 0.04, self._last_index + 1
                reader = self._reader = ThreadedReader(source)
                try:
                    outcome = self._consume(reader)
                except SourceError as e:
                    if not live:
                        raise
                    self.source_state = "reconnecting"
                    delay = backoff.next()
                    log.warning("source %s lost (%s); reconnecting in %.1f s", self.source_name, e, delay)
                    self._stop.wait(delay)
                    self.source_reopens += 1
                    continue
                finally:
                    reader.close()
                backoff.reset()
                if outcome == "end":
                    if self.config.source.loop:
                        continue
                    log.info("source %s ended", self.source_name)
                    self.source_state = "ended"
                    break
        except BaseException as e:  # reported by run(); never a silent death
            if not isinstance(e, GestureKitError):
                log.exception("the pipeline failed")
            self._fatal = e
        finally:
            pipe = self._pipe
            try:
                if pipe is not None and pipe.engine is not None:
                    self._emit(pipe.engine.finish(self._last_t))  # end of gestures still active
            except Exception:
                log.exception("the temporal engine failed to finish")
            if pipe is not None:
                pipe.close()
            self._wake.set()

    def _consume(self, reader: ThreadedReader) -> str:
        """Run the reader's items through the current pipeline (``self._pipe``, which a reload
        may replace between two frames); returns ``"stop"``, ``"restart"`` or ``"end"``."""
        for item in reader:
            if self._stop.is_set():
                return "stop"
            self._apply_pending_parts()
            if self._restart_source.is_set():
                return "restart"
            pipe = self._pipe
            if self._t_offset or self._index_offset:  # looping: keep time and indices increasing
                fr = item.frame
                if fr is not None:
                    fr = dataclasses.replace(fr, t=fr.t + self._t_offset, index=fr.index + self._index_offset)
                item = dataclasses.replace(item, t=item.t + self._t_offset, index=item.index + self._index_offset,
                                           frame=fr)
            result = self.chain.step(item, pipe)
            frame = result.frame
            self._last_t, self._last_index = frame.t, frame.index
            now = time.monotonic()
            if self._last_frame_time:
                dt = now - self._last_frame_time
                self._fps = 0.9 * self._fps + 0.1 * (1.0 / dt) if dt > 0 else self._fps
            self._last_frame_time = now
        return "end"
