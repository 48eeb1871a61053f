"""The daemon: source -> Pipeline -> EventBus -> sinks, with signals, reload and a status endpoint.

* SIGTERM / SIGINT: stop reading, send the ``end`` of active gestures, drain every sink's queue
  (up to ``bus.drain_timeout``), close the sinks, exit 0.
* SIGHUP: re-read the config. Sinks whose section did not change keep running (connected
  WebSocket clients stay connected); changed sinks are restarted, new ones added, removed ones
  closed. A config that does not validate is logged and the running one is kept.
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
from collections.abc import Mapping
from typing import Any

from .._exceptions import ConfigError, GestureKitError, SourceError
from ..assemble import build_engine
from ..bus import EventBus
from ..guard import Guarded, call_hook_isolated
from ..pipeline import Pipeline
from ..plugins import collect_factories, get_plugin_manager
from ..sources import ThreadedReader, open_source
from ..tracking import TrackerOptions
from ..values import GestureEvent
from .config import DaemonConfig, load_config
from .health import HealthServer

__all__ = ["Daemon"]

log = logging.getLogger("gesturekit.daemon")


def _strip_field(e: ConfigError) -> str:
    msg = str(e)
    if e.field and msg.startswith(f"{e.field}: "):
        msg = msg[len(e.field) + 2:]
    return msg


class _PipelineParts:
    """What a reload hands to the pipeline thread."""

    def __init__(self, tracker: TrackerOptions, classifiers: dict[str, Any], engine: Any) -> None:
        self.tracker, self.classifiers, self.engine = tracker, classifiers, engine


class Daemon:
    """Runs one validated :class:`DaemonConfig` until stopped.

    :param config: the validated config (see :func:`gesturekit.daemon.load_config`).
    :param install_signals: handle SIGTERM/SIGINT/SIGHUP (only possible on the main thread).
    """

    def __init__(self, config: DaemonConfig, install_signals: bool = True) -> None:
        self.config = config
        self.install_signals = install_signals
        self.pm = get_plugin_manager(config.plugin_paths)
        self._guards: dict[str, Guarded] = {}
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._reload_requested = False
        self._restart_source = threading.Event()
        self._pending_parts: _PipelineParts | None = None
        self._fatal: BaseException | None = None
        self.bus: EventBus | None = None
        self.health: HealthServer | None = None
        self._started = time.time()
        self.frames = 0
        self.events = 0
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
        # validate everything that can be validated before anything starts
        self._sink_factories = collect_factories(self.pm, "sinks")
        self._sinks = self.build_sinks(config)
        self._parts = self.build_parts(config)

    # building ---------------------------------------------------------------------------------
    def build_sinks(self, config: DaemonConfig, names: list[str] | None = None) -> dict[str, Any]:
        """Construct (not open) the named sinks of ``config``; constructing validates them."""
        out = {}
        for name in names if names is not None else list(config.sinks):
            typ = str(config.sinks[name].get("type", name))
            factory = self._sink_factories.get(typ)
            if factory is None:
                known = ", ".join(sorted(self._sink_factories))
                raise config.error(f"unknown sink type {typ!r}; installed sinks: {known}", f"sinks.{name}.type")
            try:
                out[name] = factory(config.sink_options(name))
            except ConfigError as e:
                sub = f"sinks.{name}.{e.field}" if e.field else f"sinks.{name}"
                raise config.error(_strip_field(e), sub) from None
            except GestureKitError:
                raise
            except (ValueError, TypeError, KeyError) as e:
                raise config.error(f"{type(e).__name__}: {e}", f"sinks.{name}") from None
        return out

    def build_parts(self, config: DaemonConfig) -> _PipelineParts:
        """Tracker options, classifiers and temporal engine for ``config``."""
        t = config.tracker
        live = self._uri_is_live(config.source)
        opts = TrackerOptions(
            model=t.get("model", "full"), device=t.get("device", "cpu"), max_hands=t.get("max_hands", 2),
            min_detection_confidence=t.get("min_detection_confidence", 0.5),
            min_presence_confidence=t.get("min_presence_confidence", 0.5),
            min_tracking_confidence=t.get("min_tracking_confidence", 0.5),
            mirrored=t["mirrored"] if t.get("mirrored") is not None else live,
            smoothing=bool(t.get("smooth", False)),
        )
        try:
            opts.validate()
        except GestureKitError as e:
            raise ConfigError(str(e), file=config.path, line=config.lines.get("tracker")) from None
        factories = collect_factories(self.pm, "classifiers")
        classifiers: dict[str, Any] = {}
        if "rules" not in config.classifiers:  # the YAML gesture library, with the config's gesture files
            if "rules" in factories:
                classifiers["rules"] = factories["rules"]({"gestures": list(config.gestures), "builtin": True,
                                                           "mirrored": opts.mirrored})
        for name, section in config.classifiers.items():
            typ = section.get("type", name)
            if typ not in factories:
                raise config.error(f"unknown classifier type {typ!r}; installed: {', '.join(sorted(factories))}",
                                   f"classifiers.{name}.type")
            try:
                classifiers[name] = factories[typ]({k: v for k, v in section.items() if k != "type"})
            except ConfigError as e:
                raise config.error(_strip_field(e), f"classifiers.{name}" + (f".{e.field}" if e.field else "")) \
                    from None
        engine = build_engine(classifiers, source=self._source_label(config))
        return _PipelineParts(opts, classifiers, engine)

    @staticmethod
    def _source_label(config: DaemonConfig) -> str:
        uri = str(config.source.get("uri", config.source.get("type", "")))
        if uri.isdigit():
            return f"camera:{uri}"
        return uri.split("@")[-1] if "://" in uri else os.path.basename(uri)

    @staticmethod
    def _uri_is_live(source: Mapping[str, Any]) -> bool:
        uri = str(source.get("uri", ""))
        return uri.isdigit() or "://" in uri or ("type" in source and "uri" not in source)

    def _open_source(self) -> Any:
        src = self.config.source
        if "type" in src:
            factories = collect_factories(self.pm, "sources")
            typ = src["type"]
            if typ not in factories:
                raise self.config.error(f"unknown source type {typ!r}; installed: {', '.join(sorted(factories))}",
                                        "source.type")
            return factories[typ]({k: v for k, v in src.items() if k != "type"})
        return open_source(src["uri"], realtime=bool(src.get("realtime", False)),
                           reconnect=bool(src.get("reconnect", True)))

    # status -----------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What ``gesturekit status`` and the status endpoint show."""
        src = self._source
        reconnects = self.source_reopens + int(getattr(src, "reconnects", 0) or 0)
        pipe = self._pipe
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
            "plugin_errors": pipe.failures() if pipe is not None else {},
            "sinks": self.bus.stats() if self.bus is not None else {},
        }

    # control ----------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask the daemon to shut down (thread-safe; what SIGTERM does)."""
        self._stop.set()
        self._wake.set()

    def request_reload(self) -> None:
        """Ask the daemon to re-read its config (thread-safe; what SIGHUP does)."""
        self._reload_requested = True
        self._wake.set()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if signum == getattr(signal, "SIGHUP", None):
            log.info("SIGHUP: reloading %s", self.config.path)
            self.request_reload()
        else:
            log.info("%s: shutting down", signal.Signals(signum).name)
            self.stop()

    # run --------------------------------------------------------------------------------------
    def run(self) -> int:
        """Run until SIGTERM/SIGINT, :meth:`stop`, or the end of a (non-looping) file source."""
        cfg = self.config
        previous = {}
        if self.install_signals and threading.current_thread() is threading.main_thread():
            for s in ("SIGTERM", "SIGINT", "SIGHUP"):
                if hasattr(signal, s):
                    previous[s] = signal.signal(getattr(signal, s), self._on_signal)
        self.bus = EventBus(queue_size=int(cfg.bus.get("queue_size", 1024)),
                            frame_rate=float(cfg.bus.get("frame_rate", 15)))
        thread = None
        try:
            for name, sink in self._sinks.items():
                self._add_sink(name, sink, cfg)
            if cfg.health.get("enabled", True):
                self.health = HealthServer(self.status, cfg.health["host"], int(cfg.health["port"]),
                                           cfg.health.get("token"))
                self.health.start()
            call_hook_isolated(self.pm.hook.gesturekit_configure, self._guards, config=cfg.raw,
                               plugin_config=cfg.plugins)
            call_hook_isolated(self.pm.hook.gesturekit_startup, self._guards)
            thread = threading.Thread(target=self._pipeline_main, name="gesturekit-pipeline", daemon=True)
            thread.start()
            log.info("daemon running: source %s, sinks %s", cfg.source.get("uri", cfg.source.get("type")),
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

    def _add_sink(self, name: str, sink: Any, cfg: DaemonConfig) -> None:
        section = cfg.sinks[name]
        try:
            self.bus.add_sink(name, sink, queue_size=section.get("queue_size"), durable=section.get("durable"))
        except GestureKitError:
            raise
        except OSError as e:
            raise GestureKitError(f"sink {name!r} could not start: {e.strerror or e}") from None

    def _main_loop(self, thread: threading.Thread) -> None:
        interval = float(self.config.bus.get("stats_interval", 60))
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
        if thread is not None:
            thread.join(5.0)
            if thread.is_alive():
                log.warning("the pipeline did not stop within 5 s (a source is stuck); shutting down anyway")
        if self.bus is not None:
            self.bus.close(float(self.config.bus.get("drain_timeout", 5)))
        call_hook_isolated(self.pm.hook.gesturekit_shutdown, self._guards)
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
            changed = [n for n in new.sinks if old.sinks.get(n) != new.sinks[n]]
            fresh = self.build_sinks(new, changed)
            parts = None
            if (new.tracker, new.gestures, new.classifiers) != (old.tracker, old.gestures, old.classifiers):
                parts = self.build_parts(new)
        except GestureKitError as e:
            log.error("reload failed, keeping the running config: %s", e)
            return
        removed = [n for n in old.sinks if n not in new.sinks or n in changed]
        for n in removed:
            self.bus.remove_sink(n, float(new.bus.get("drain_timeout", 5)))
            self._sinks.pop(n, None)
        for n, sink in fresh.items():
            try:
                self._add_sink(n, sink, new)
                self._sinks[n] = sink
            except GestureKitError as e:
                log.error("reload: sink %r could not start: %s", n, e)
        self.config = new
        if parts is not None:
            self._pending_parts = parts
        if new.source != old.source:
            self._restart_source.set()
        self.reloads += 1
        kept = [n for n in new.sinks if n not in changed]
        log.info("config reloaded: kept sinks [%s], (re)started [%s], removed [%s]", ", ".join(kept),
                 ", ".join(changed), ", ".join(n for n in old.sinks if n not in new.sinks))

    # pipeline thread --------------------------------------------------------------------------
    def _emit(self, events: list[GestureEvent]) -> None:
        for ev in events:
            self.events += 1
            call_hook_isolated(self.pm.hook.gesturekit_event, self._guards, event=ev)
            self.bus.publish(ev)

    def _make_pipe(self, parts: _PipelineParts) -> Pipeline:
        return Pipeline(self.pm, parts.tracker, classifiers=parts.classifiers, engine=parts.engine,
                        source_name=self.source_name)

    def _pipeline_main(self) -> None:
        backoff, max_backoff = 0.5, 8.0
        pipe = self._pipe = self._make_pipe(self._parts)
        try:
            while not self._stop.is_set():
                self._restart_source.clear()
                live = self._uri_is_live(self.config.source)
                try:
                    source = self._open_source()
                except SourceError as e:
                    if not live:
                        raise
                    self.source_state = "unavailable"
                    log.warning("source unavailable (%s); retrying in %.1f s", e, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, max_backoff)
                    self.source_reopens += 1
                    continue
                live = bool(getattr(source, "live", live))
                self._source, self.source_name = source, getattr(source, "name", "")
                pipe.source_name = self.source_name
                self.source_state = "running"
                if self._last_index >= 0:  # a reopened or looping source: time and indices go on
                    self._t_offset, self._index_offset = self._last_t + 0.04, self._last_index + 1
                reader = self._reader = ThreadedReader(source)
                try:
                    outcome, pipe = self._consume(reader, pipe)
                except SourceError as e:
                    if not live:
                        raise
                    self.source_state = "reconnecting"
                    log.warning("source %s lost (%s); reconnecting in %.1f s", self.source_name, e, backoff)
                    self._stop.wait(backoff)
                    backoff = min(backoff * 2, max_backoff)
                    self.source_reopens += 1
                    continue
                finally:
                    reader.close()
                backoff = 0.5
                if outcome == "end":
                    if bool(self.config.source.get("loop", False)):
                        continue
                    log.info("source %s ended", self.source_name)
                    self.source_state = "ended"
                    break
        except BaseException as e:  # reported by run(); never a silent death
            if not isinstance(e, GestureKitError):
                log.exception("the pipeline failed")
            self._fatal = e
        finally:
            try:
                if pipe is not None and pipe.engine is not None:
                    self._emit(pipe.engine.finish(self._last_t))  # end of gestures still active
            except Exception:
                log.exception("the temporal engine failed to finish")
            pipe.close()
            self._wake.set()

    def _consume(self, reader: ThreadedReader, pipe: Pipeline) -> tuple[str, Pipeline]:
        for item in reader:
            if self._stop.is_set():
                return "stop", pipe
            if self._pending_parts is not None:
                parts, self._pending_parts = self._pending_parts, None
                if pipe.engine is not None:
                    self._emit(pipe.engine.finish(self._last_t))
                pipe.close()
                pipe = self._pipe = self._make_pipe(parts)
                pipe.source_name = self.source_name
            if self._restart_source.is_set():
                return "restart", pipe
            if self._t_offset or self._index_offset:  # looping: keep time and indices increasing
                fr = item.frame
                if fr is not None:
                    fr = dataclasses.replace(fr, t=fr.t + self._t_offset, index=fr.index + self._index_offset)
                item = dataclasses.replace(item, t=item.t + self._t_offset, index=item.index + self._index_offset,
                                           frame=fr)
            frame = pipe.frame_for(item)
            result = pipe.process(frame)
            self._last_t, self._last_index = frame.t, frame.index
            now = time.monotonic()
            if self._last_frame_time:
                dt = now - self._last_frame_time
                self._fps = 0.9 * self._fps + 0.1 * (1.0 / dt) if dt > 0 else self._fps
            self._last_frame_time = now
            self.frames += 1
            self._emit(result.events)
            self.bus.publish_frame(frame)
        return "end", pipe
