"""The daemon's status document: what ``gesturekit status`` and ``GET /status`` show."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["ReloadCounters", "status_document"]


@dataclass
class ReloadCounters:
    """How reloads went: applied, failed (the running config kept), and the last failure."""

    reloads: int = 0
    errors: int = 0
    last_error: str = ""

    def failed(self, text: str) -> None:
        self.errors += 1
        self.last_error = text[:300]


def status_document(*, stopping: bool, config_path: str, started: float, source: Mapping[str, Any], frames: int,
                    fps: float, events: int, reloads: ReloadCounters, plugin_failures: Mapping[str, Any],
                    sinks: Mapping[str, Any]) -> dict[str, Any]:
    """The status as strict-JSON-ready values (see docs/daemon.md for each field)."""
    return {
        "status": "stopping" if stopping else "running",
        "pid": os.getpid(),
        "config": os.path.abspath(config_path),
        "uptime_s": round(time.time() - started, 3),
        "source": dict(source),
        "frames": int(frames),
        "fps": round(float(fps), 2),
        "events": int(events),
        "reloads": reloads.reloads,
        "plugin_errors": dict(plugin_failures.get("errors", {})),
        "plugins_disabled": list(plugin_failures.get("disabled", [])),
        "reload_errors": reloads.errors,
        "last_reload_error": reloads.last_error,
        "sinks": dict(sinks),
    }
