"""The ``stdout`` sink: one canonical JSON line per GestureEvent."""

from __future__ import annotations

import sys
from typing import Any

from gesturekit import GestureEvent, PluginOptions, hookimpl, options
from gesturekit.sinks import sink_options


class StdoutOptions(PluginOptions):
    """Options of the ``stdout`` sink: none (any key is an error)."""


@options(StdoutOptions)
class StdoutSink:
    """Writes each event as one line of canonical JSON to standard output (flushed).

    :param config: a :class:`StdoutOptions` or its section as a plain dict (empty).
    """

    def __init__(self, config: StdoutOptions | Any = None) -> None:
        self.options = sink_options(StdoutOptions, config)
        self.stream = sys.stdout
        self.closed_by_reader = False

    def send(self, event: GestureEvent) -> None:
        if self.closed_by_reader:
            return
        try:
            self.stream.write(event.to_json() + "\n")
            self.stream.flush()
        except BrokenPipeError:  # `gesturekit run ... | head`: the reader is gone, nothing more to say
            self.closed_by_reader = True

    def close(self) -> None:
        pass


@hookimpl(trylast=True)
def gesturekit_register_sinks() -> dict:
    return {"stdout": StdoutSink}
