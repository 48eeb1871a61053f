"""The daemon's pipeline thread: opens the source, runs its frames through the chain, and keeps
a live source alive (reopened with backoff when it cannot be opened or stops).

A reload hands it new chain parts (:meth:`SourceSupervisor.swap_parts`), swapped in between two
frames, or asks it to reopen the source (:meth:`SourceSupervisor.restart_source`). Time and frame
indices keep increasing across reopened and looping sources, and ``seq`` across swapped engines.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gesturekit._exceptions import GestureKitError, SourceError
from gesturekit.chain.builder import Chain, ChainParts
from gesturekit.chain.pipeline import Pipeline
from gesturekit.settings import Settings
from gesturekit.sources import ThreadedReader
from gesturekit.util.retry import Backoff

__all__ = ["SourceSupervisor"]

log = logging.getLogger("gesturekit.daemon")


class SourceSupervisor:
    """Runs ``chain`` over the source of ``settings()`` until ``stop`` is set or the source ends.

    :param chain: the built chain (its sinks are on a bus already).
    :param settings: returns the current config (a reload replaces it).
    :param stop: set to stop; :meth:`run` returns soon after.
    :param on_exit: called when :meth:`run` returns (the daemon's main loop wakes up).
    :param backoff: delays between reopening attempts of a live source.
    """

    def __init__(self, chain: Chain, settings: Callable[[], Settings], stop: threading.Event,
                 on_exit: Callable[[], None] = lambda: None, backoff: Backoff | None = None) -> None:
        self.chain, self._settings, self._stop, self._on_exit = chain, settings, stop, on_exit
        self.backoff = backoff or Backoff(0.5, 8.0)
        self.name = ""
        self.state = "starting"
        self.reopens = 0
        self.fps = 0.0
        #: What ended :meth:`run` with an error (reported by the daemon), else ``None``.
        self.fatal: BaseException | None = None
        self.source: Any = None
        self.reader: ThreadedReader | None = None
        self.pipe: Pipeline | None = None
        self._pending: ChainParts | None = None
        self._lock = threading.Lock()
        self._restart = threading.Event()
        self._last_frame_time = 0.0
        self._last_t, self._last_index = 0.0, -1
        self._t_offset, self._index_offset = 0.0, 0

    # asked by the daemon (any thread) ---------------------------------------------------------
    def swap_parts(self, parts: ChainParts) -> None:
        """Use ``parts`` from the next frame on."""
        with self._lock:
            self._pending = parts

    def restart_source(self) -> None:
        """End the source's gestures and open the (new) source of the config."""
        self._restart.set()

    def status(self) -> dict[str, Any]:
        """``{"name", "state", "reconnects", "frames_dropped"}`` of the source."""
        reconnects = self.reopens + int(getattr(self.source, "reconnects", 0) or 0)
        return {"name": self.name, "state": self.state, "reconnects": reconnects,
                "frames_dropped": int(getattr(self.reader, "dropped", 0) or 0)}

    # the thread -------------------------------------------------------------------------------
    def _live(self) -> bool:
        src = self._settings().source
        return bool(src is not None and src.live)

    def _label_engine(self, pipe: Pipeline) -> None:
        """Events carry the current config's source label (a reload may change the source)."""
        if pipe.engine is not None and hasattr(pipe.engine, "source"):
            src = self._settings().source
            pipe.engine.source = src.label if src is not None else ""

    def _finish(self, pipe: Pipeline | None) -> None:
        if pipe is not None and pipe.engine is not None:
            self.chain.emit(pipe.engine.finish(self._last_t))

    def _apply_pending(self) -> None:
        """Swap in a reload's pipeline: the old engine ends its gestures, the new one goes on
        counting ``seq`` where the old stopped, and the old pipeline is closed."""
        with self._lock:
            parts, self._pending = self._pending, None
        if parts is None:
            return
        old = self.pipe
        try:
            new = self.chain.make_pipeline(parts)
        except Exception as e:
            log.error("reload: the new pipeline could not be built (%s: %s); keeping the running one",
                      type(e).__name__, e)
            return
        new.source_name = self.name
        if old is not None and old.engine is not None:
            self._finish(old)
            seq = getattr(old.engine, "next_seq", None)
            if seq is not None and new.engine is not None and hasattr(new.engine, "next_seq"):
                new.engine.next_seq = seq
        self._label_engine(new)
        self.pipe = new
        if old is not None:
            try:
                old.close()
            except Exception:
                log.exception("the replaced pipeline failed to close")

    def _wait_to_reopen(self, state: str, message: str, e: BaseException) -> None:
        self.state = state
        delay = self.backoff.next()
        log.warning(message, e, delay)
        self._stop.wait(delay)
        self.reopens += 1

    def run(self) -> None:
        """The thread's body; errors end up in :attr:`fatal`, never as a silent death."""
        self.pipe = self.chain.make_pipeline(self.chain.parts)
        try:
            while not self._stop.is_set():
                self._apply_pending()
                if self._restart.is_set():  # a reload changed the source: end its gestures
                    self._restart.clear()
                    self._finish(self.pipe)
                live = self._live()
                try:
                    self.chain.settings = self._settings()  # a reload may have changed the source
                    source = self.chain.open_source()
                except SourceError as e:
                    if not live:
                        raise
                    self._wait_to_reopen("unavailable", "source unavailable (%s); retrying in %.1f s", e)
                    continue
                live = bool(getattr(source, "live", live))
                self.source, self.name = source, getattr(source, "name", "")
                self.pipe.source_name = self.name
                self._label_engine(self.pipe)
                self.state = "running"
                if self._last_index >= 0:  # a reopened or looping source: time and indices go on
                    self._t_offset, self._index_offset = self._last_t + 0.04, self._last_index + 1
                reader = self.reader = ThreadedReader(source)
                try:
                    outcome = self._consume(reader)
                except SourceError as e:
                    if not live:
                        raise
                    self._wait_to_reopen("reconnecting", f"source {self.name} lost (%s); reconnecting in %.1f s", e)
                    continue
                finally:
                    reader.close()
                self.backoff.reset()
                if outcome == "end":
                    if self._settings().source.loop:
                        continue
                    log.info("source %s ended", self.name)
                    self.state = "ended"
                    break
        except BaseException as e:
            if not isinstance(e, GestureKitError):
                log.exception("the pipeline failed")
            self.fatal = e
        finally:
            try:
                self._finish(self.pipe)  # the end of gestures still active
            except Exception:
                log.exception("the temporal engine failed to finish")
            if self.pipe is not None:
                self.pipe.close()
            self._on_exit()

    def _consume(self, reader: ThreadedReader) -> str:
        """Run the reader's items through the current pipeline (which a reload may replace
        between two frames); returns ``"stop"``, ``"restart"`` or ``"end"``."""
        for item in reader:
            if self._stop.is_set():
                return "stop"
            self._apply_pending()
            if self._restart.is_set():
                return "restart"
            if self._t_offset or self._index_offset:  # looping: keep time and indices increasing
                fr = item.frame
                if fr is not None:
                    fr = dataclasses.replace(fr, t=fr.t + self._t_offset, index=fr.index + self._index_offset)
                item = dataclasses.replace(item, t=item.t + self._t_offset, index=item.index + self._index_offset,
                                           frame=fr)
            frame = self.chain.step(item, self.pipe).frame
            self._last_t, self._last_index = frame.t, frame.index
            now = time.monotonic()
            if self._last_frame_time:
                dt = now - self._last_frame_time
                self.fps = 0.9 * self.fps + 0.1 * (1.0 / dt) if dt > 0 else self.fps
            self._last_frame_time = now
        return "end"
