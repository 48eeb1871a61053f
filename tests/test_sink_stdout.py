"""The ``stdout`` sink: one JSON line per event; it takes no options."""

import io
import json

import pytest
from gesturekit_plugins.stdout_sink import StdoutOptions, StdoutSink
from peers import events

from gesturekit import ConfigError, GestureEvent


def test_one_json_line_per_event():
    sink = StdoutSink(StdoutOptions())  # what the builder passes: the validated model
    sink.stream = io.StringIO()
    for e in events(3):
        sink.send(e)
    lines = sink.stream.getvalue().splitlines()
    assert [GestureEvent.from_dict(json.loads(line)).seq for line in lines] == [0, 1, 2]


def test_options_model_has_no_options():
    assert StdoutSink.options_model is StdoutOptions
    StdoutSink()
    StdoutSink({"type": "stdout", "enabled": True, "queue_size": 10})  # the bus's keys are not the sink's
    with pytest.raises(ConfigError) as ei:
        StdoutSink({"pretty": True})
    assert ei.value.field == "pretty" and "unknown setting" in str(ei.value)
    assert StdoutOptions.model_json_schema()["additionalProperties"] is False
