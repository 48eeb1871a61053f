"""JSONL sink: append, flush per event, restart continues the file, torn lines repaired."""

import json

import pytest
from gesturekit_plugins.jsonl_sink import JsonlSink
from peers import events

from gesturekit import ConfigError
from gesturekit.bus import EventBus

pytestmark = pytest.mark.timeout(60)


def test_flushed_per_event_and_restart_continues(tmp_path):
    path = tmp_path / "sub" / "events.jsonl"
    evs = events(30)
    sink = JsonlSink({"path": str(path), "fsync_interval": 0})
    sink.open()
    sink.send(evs[0])
    assert json.loads(path.read_text()) == evs[0].to_dict()  # visible before close
    for e in evs[1:10]:
        sink.send(e)
    sink.close()
    bus = EventBus()  # a restarted daemon: same file, continued
    bus.add_sink("file", JsonlSink({"path": str(path)}))
    for e in evs[10:]:
        bus.publish(e)
    bus.close()
    lines = path.read_text().splitlines()
    assert [json.loads(x)["seq"] for x in lines] == list(range(30))


def test_torn_last_line_is_cut_off(tmp_path):
    path = tmp_path / "events.jsonl"
    evs = events(3)
    path.write_text(evs[0].to_json() + "\n" + evs[1].to_json()[:17])
    sink = JsonlSink({"path": str(path)})
    sink.open()
    sink.send(evs[2])
    sink.close()
    assert [json.loads(x)["seq"] for x in path.read_text().splitlines()] == [0, 2]


def test_config_errors():
    with pytest.raises(ConfigError, match="path"):
        JsonlSink({})
    with pytest.raises(ConfigError, match="fsync_interval"):
        JsonlSink({"path": "x", "fsync_interval": -1})
