"""The ``stdout`` sink: one canonical JSON line per GestureEvent."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from gesturekit import GestureEvent, hookimpl
from gesturekit.sinks import check_options


class StdoutSink:
    """Writes each event as one line of canonical JSON to standard output (flushed)."""

    def __init__(self, config: Mapping[str, Any] | None = None) -> None:
        check_options(config or {}, (), "the stdout sink")
        self.stream = sys.stdout

    def send(self, event: GestureEvent) -> None:
        self.stream.write(event.to_json() + "\n")
        self.stream.flush()

    def close(self) -> None:
        pass


@hookimpl(trylast=True)
def gesturekit_register_sinks() -> dict:
    return {"stdout": StdoutSink}
