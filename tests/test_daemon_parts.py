"""The daemon's parts, each on its own: sink lifecycle, reload plan, source supervision, status."""

import threading

import pytest
from peers import real_clip_recording, wait_for

from gesturekit import GestureKitError
from gesturekit.bus import EventBus
from gesturekit.chain.builder import Chain
from gesturekit.daemon.reload import parts_changed, plan_reload
from gesturekit.daemon.sink_set import SinkSet
from gesturekit.daemon.status import ReloadCounters, status_document
from gesturekit.daemon.supervisor import SourceSupervisor
from gesturekit.settings import settings_from_mapping
from gesturekit.util.retry import Backoff

pytestmark = pytest.mark.timeout(120)


class ListSink:
    def __init__(self, fail_open=False):
        self.got, self.fail_open, self.opened, self.closed = [], fail_open, 0, 0

    def open(self):
        self.opened += 1
        if self.fail_open:
            raise OSError(98, "Address already in use")

    def send(self, event):
        self.got.append(event)

    def close(self):
        self.closed += 1


def _settings(tmp_path, **over):
    data = {"source": str(real_clip_recording()), "sinks": {"a": {"type": "jsonl", "path": str(tmp_path / "a.jsonl")}}}
    data.update(over)
    return settings_from_mapping(data, base_dir=str(tmp_path))


def test_sink_set_checks_starts_and_remembers_sinks_that_failed(tmp_path):
    good, bad = ListSink(), ListSink(fail_open=True)
    with pytest.raises(GestureKitError, match=r"^sink 'bad' could not start: Address already in use$"):
        SinkSet({"good": good, "bad": bad}).check()
    assert (good.opened, good.closed) == (1, 1)

    cfg = _settings(tmp_path, sinks={"good": {"type": "stdout"}, "bad": {"type": "stdout"}})
    sinks = SinkSet({"good": good})
    bus = EventBus()
    try:
        sinks.start(bus, cfg)
        done = sinks.apply({"bad": bad}, removed=[], settings=cfg)
        assert done == {"started": [], "restarted": [], "failed": ["bad"], "removed": []}
        st = sinks.status()
        assert st["bad"]["state"] == "failed" and "Address already in use" in st["bad"]["last_error"]
        assert st["good"].get("state") != "failed"
        # a later reload that starts it clears the failure; a removed sink is closed
        bad.fail_open = False
        assert sinks.apply({"bad": bad}, removed=["good"], settings=cfg)["started"] == ["bad"]
        assert sinks.failed == {} and list(sinks.sinks) == ["bad"] and good.closed == 2
    finally:
        bus.close(1.0)


def test_reload_plan_builds_only_what_changed(tmp_path):
    (tmp_path / "a.jsonl").write_text("")
    old = _settings(tmp_path)
    chain = Chain(old)
    same = plan_reload(old, chain, new=_settings(tmp_path))
    assert (same.sinks, same.removed, same.kept, same.parts, same.source_changed) == ({}, [], ["a"], None, False)

    new = _settings(tmp_path, sinks={"a": {"type": "jsonl", "path": str(tmp_path / "b.jsonl")},
                                     "c": {"type": "stdout"}},
                    temporal={"release": 0.5})
    plan = plan_reload(old, chain, new=new)
    assert sorted(plan.sinks) == ["a", "c"] and plan.kept == [] and plan.parts is not None
    assert parts_changed(old, new) and not parts_changed(old, old)
    # a sink that failed to start before is built again although its section is the same
    assert list(plan_reload(old, chain, retry=["a"], new=_settings(tmp_path)).sinks) == ["a"]
    moved = _settings(tmp_path, sinks={"z": {"type": "stdout"}}, source=str(tmp_path / "a.jsonl"))
    gone = plan_reload(old, chain, new=moved)
    assert gone.removed == ["a"] and gone.source_changed


def test_supervisor_runs_a_file_source_to_its_end_and_ends_its_gestures(tmp_path):
    cfg = _settings(tmp_path)
    chain = Chain(cfg)
    got = ListSink()
    bus = chain.bus = EventBus()
    bus.add_sink("list", got)
    stop, exited = threading.Event(), threading.Event()
    sup = SourceSupervisor(chain, lambda: cfg, stop, on_exit=exited.set)
    sup.run()
    bus.close(5.0)
    assert exited.is_set() and sup.fatal is None and sup.state == "ended"
    assert chain.frames > 100 and sup.status()["name"]
    starts = sum(e.phase == "start" for e in got.got)
    ends = sum(e.phase == "end" for e in got.got)
    assert starts >= 1 and starts == ends  # every gesture that started was ended
    assert [e.seq for e in got.got] == list(range(len(got.got)))


def test_supervisor_keeps_retrying_a_live_source_that_cannot_be_opened(tmp_path):
    cfg = _settings(tmp_path, source="http://127.0.0.1:9/never.mjpg")
    chain = Chain(cfg)
    chain.bus = EventBus()
    stop = threading.Event()
    sup = SourceSupervisor(chain, lambda: cfg, stop, backoff=Backoff(0.01, 0.05))
    t = threading.Thread(target=sup.run, daemon=True)
    t.start()
    try:
        wait_for(lambda: sup.reopens >= 3, timeout=30, what="three reopening attempts")
        assert sup.state == "unavailable" and t.is_alive() and sup.fatal is None
    finally:
        stop.set()
        t.join(10)
        chain.bus.close(1.0)
    assert not t.is_alive()


def test_status_document_is_what_the_endpoint_shows():
    rc = ReloadCounters(reloads=2)
    rc.failed("x" * 500)
    doc = status_document(stopping=False, config_path="d.yaml", started=0.0, source={"name": "cam", "state": "running"},
                          frames=10, fps=29.987, events=3, reloads=rc,
                          plugin_failures={"errors": {"p": 1}, "disabled": ["p"]}, sinks={"a": {"delivered": 3}})
    assert doc["status"] == "running" and doc["fps"] == 29.99 and doc["reloads"] == 2
    assert doc["reload_errors"] == 1 and len(doc["last_reload_error"]) == 300
    assert doc["plugin_errors"] == {"p": 1} and doc["plugins_disabled"] == ["p"] and doc["config"].endswith("d.yaml")
