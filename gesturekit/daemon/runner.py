"""The daemon: source -> Pipeline -> EventBus -> sinks, with signals, reload and a status endpoint.

Its parts, each testable alone: :mod:`~gesturekit.daemon.sink_set` (sink lifecycle),
:mod:`~gesturekit.daemon.supervisor` (the pipeline thread and source supervision),
:mod:`~gesturekit.daemon.reload` (what a reload changes), :mod:`~gesturekit.daemon.status`
(the status document) and :mod:`~gesturekit.daemon.health` (the status endpoint). This module
wires them together and handles signals.

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

import logging
import signal
import threading
import time
from typing import Any

from gesturekit._exceptions import GestureKitError
from gesturekit.bus import EventBus
from gesturekit.chain.builder import Chain, ChainParts, build_sinks, redact_secrets
from gesturekit.daemon.config import check_daemon_settings, daemon_gaps
from gesturekit.daemon.dashboard import Dashboard
from gesturekit.daemon.health import HealthServer
from gesturekit.daemon.reload import plan_reload
from gesturekit.daemon.sink_set import SinkSet
from gesturekit.daemon.status import ReloadCounters, status_document
from gesturekit.daemon.supervisor import SourceSupervisor
from gesturekit.settings import Settings

__all__ = ["Daemon", "redact_secrets"]

log = logging.getLogger("gesturekit.daemon")


class Daemon:
    """Runs one validated config until stopped.

    :param config: the config (see :func:`gesturekit.settings.load_settings`); one without a
        source or a sink is refused with one line.
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
        self._signals = 0
        self._forced = False
        self.bus: EventBus | None = None
        self.health: HealthServer | None = None
        self._started = time.time()
        self.sinks = SinkSet(self.chain.sinks)
        self.supervisor = SourceSupervisor(self.chain, lambda: self.config, self._stop, on_exit=self._wake.set)
        self.reload_counters = ReloadCounters()

    # building ---------------------------------------------------------------------------------
    def build_sinks(self, config: Settings, names: list[str] | None = None) -> dict[str, Any]:
        """Construct (not open) the named sinks of ``config``; constructing validates them."""
        return build_sinks(self.pm, config, names)

    def check_sinks(self) -> None:
        """Open and close every sink of the config (what ``daemon --check`` does).

        :raises GestureKitError: one line naming the first sink that could not start.
        """
        self.sinks.check()

    def build_parts(self, config: Settings) -> ChainParts:
        """Tracker options, classifiers, temporal engine and observers for ``config``."""
        return self.chain.build_parts(config)

    # status -----------------------------------------------------------------------------------
    @property
    def frames(self) -> int:
        """Frames processed (counted by the chain)."""
        return self.chain.frames

    @property
    def events(self) -> int:
        """Events sent out (counted by the chain)."""
        return self.chain.events

    def status(self) -> dict[str, Any]:
        """What ``gesturekit status`` and the status endpoint show."""
        sup = self.supervisor
        return status_document(stopping=self._stop.is_set(), config_path=self.config.path, started=self._started,
                               source=sup.status(), frames=self.frames, fps=sup.fps, events=self.events,
                               reloads=self.reload_counters, plugin_failures=self.pm.failures.snapshot(),
                               sinks=self.sinks.status())

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
            self.sinks.start(self.bus, cfg)
            self.sinks.warn_disconnected(self.sinks.sinks, self._stop)
            if cfg.health.enabled:
                dash = Dashboard.for_daemon(self) if cfg.health.dashboard.enabled else None
                self.health = HealthServer(self.status, cfg.health.host, cfg.health.port, cfg.health.token,
                                           dashboard=dash)
                self.health.start()
            self.pm.hook.gesturekit_configure(config=redact_secrets(cfg.raw), plugin_config=dict(cfg.plugins))
            self.pm.hook.gesturekit_startup()
            thread = threading.Thread(target=self.supervisor.run, name="gesturekit-pipeline", daemon=True)
            thread.start()
            log.info("daemon running: source %s, sinks %s", cfg.source.uri or cfg.source.type,
                     ", ".join(self.sinks.sinks))
            self._main_loop(thread)
        finally:
            self._shutdown(thread)
            for s, h in previous.items():
                signal.signal(getattr(signal, s), h)
        fatal = self.supervisor.fatal
        if fatal is not None:
            if isinstance(fatal, GestureKitError):
                raise fatal
            raise GestureKitError(f"the pipeline failed: {type(fatal).__name__}: {fatal}")
        return 0

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
                sup = self.supervisor
                log.info("frames=%d fps=%.1f events=%d source=%s (%s)", self.frames, sup.fps, self.events,
                         sup.name, sup.state)
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
            plan = plan_reload(old, self.chain, retry=self.sinks.failed)
        except BaseException as e:  # a third-party factory may raise anything (even SystemExit)
            text = str(e) if isinstance(e, GestureKitError) else f"{type(e).__name__}: {e}"
            log.error("reload failed, keeping the running config: %s", text)
            self.reload_counters.failed(text)
            return
        new = plan.config
        done = self.sinks.apply(plan.sinks, plan.removed, new)
        self.sinks.warn_disconnected(done["started"] + done["restarted"], self._stop)
        self.config = new
        if plan.parts is not None:
            self.supervisor.swap_parts(plan.parts)
        if plan.source_changed:
            self.supervisor.restart_source()
        self.reload_counters.reloads += 1
        log.info("config reloaded: kept sinks [%s], restarted [%s], started [%s], removed [%s], failed [%s]",
                 ", ".join(plan.kept), ", ".join(done["restarted"]), ", ".join(done["started"]),
                 ", ".join(done["removed"]), ", ".join(done["failed"]))
