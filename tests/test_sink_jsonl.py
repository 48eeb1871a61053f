"""JSONL sink: append, flush per event, restart continues the file, torn lines repaired."""

import json
import os
import shutil
import subprocess
import time

import pytest
from gesturekit_plugins.jsonl_sink import JsonlOptions, JsonlSink
from peers import events, wait_for

from gesturekit import ConfigError, InputError
from gesturekit.bus import EventBus
from gesturekit.chain.builder import build_section
from gesturekit.daemon.config import load_config
from gesturekit.settings.model import CORE_SINK_KEYS

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
    with pytest.raises(ConfigError) as ei:
        JsonlSink({"path": "x", "fsync_intervall": 0})
    assert ei.value.field == "fsync_intervall" and "fsync_interval" in str(ei.value)


def test_unwritable_path_names_the_file(tmp_path):
    blocker = tmp_path / "afile"
    blocker.write_text("")
    sink = JsonlSink({"path": str(blocker / "events.jsonl")})
    with pytest.raises(InputError, match=str(blocker / "events.jsonl")):
        sink.open()


def test_idle_stream_is_fsynced_by_the_timer(tmp_path):
    sink = JsonlSink({"path": str(tmp_path / "e.jsonl"), "fsync_interval": 0.3})
    sink.open()
    evs = events(3)
    t0 = time.monotonic()
    sink.send(evs[0])  # within the interval since open: not synced now, and no event follows
    assert sink.status()["unsynced"]
    wait_for(lambda: not sink.status()["unsynced"], timeout=3, what="the idle fsync")
    assert time.monotonic() - t0 < 1.0
    sink.close()


def test_relative_path_resolves_against_the_config_folder(tmp_path, monkeypatch):
    cfgdir = tmp_path / "conf"
    cfgdir.mkdir()
    (cfgdir / "rec.jsonl").write_text("")
    (cfgdir / "d.yaml").write_text("source: rec.jsonl\nsinks:\n  j: {type: jsonl, path: out/events.jsonl}\n")
    monkeypatch.chdir(tmp_path)
    cfg = load_config(str(cfgdir / "d.yaml"))
    sink = build_section("sinks", "j", cfg.enabled_sinks()["j"], {"jsonl": JsonlSink}, cfg, drop=CORE_SINK_KEYS)
    assert isinstance(sink.options, JsonlOptions)
    assert sink.path == os.path.join(str(cfgdir), "out", "events.jsonl")
    sink.open()
    sink.send(events(1)[0])
    sink.close()
    assert (cfgdir / "out" / "events.jsonl").exists() and not (tmp_path / "out").exists()


@pytest.fixture
def small_disk(tmp_path):
    """A real 64 KB tmpfs (``mount`` needs root; skipped with the reason when not allowed)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    mount = shutil.which("mount") or "/bin/mount"
    r = subprocess.run([mount, "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill a disk (needs root): {r.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_a_full_disk_then_recovery_writes_every_seq_exactly_once(small_disk):
    path = small_disk / "events.jsonl"
    bus = EventBus()
    bus.add_sink("file", JsonlSink({"path": str(path), "fsync_interval": 0}), retry_max=0.05)
    evs = events(1000)  # ~180 kB of lines: the disk fills at about a third
    for e in evs:
        bus.publish(e)
    wait_for(lambda: bus.stats()["file"]["errors"] >= 5, timeout=20, what="the disk to fill")
    assert "No space left" in bus.stats()["file"]["last_error"]
    assert path.stat().st_size <= 64 * 1024
    r = subprocess.run(["mount", "-o", "remount,size=4m", str(small_disk)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    stats = bus.close(timeout=30)["file"]
    raw = path.read_bytes()
    assert raw.endswith(b"\n")
    seqs = [json.loads(x)["seq"] for x in raw.decode().splitlines()]  # no torn line either
    assert seqs == list(range(1000))
    assert stats["delivered"] == 1000 and stats["dropped"] == 0 and stats["errors"] >= 5


def test_options_model():
    assert JsonlSink.options_model is JsonlOptions
    sink = JsonlSink(JsonlOptions(path="x.jsonl", fsync_interval=0))
    assert (sink.path, sink.fsync_interval) == ("x.jsonl", 0.0)
    assert JsonlSink({"path": "x.jsonl", "type": "jsonl", "queue_size": 5}).fsync_interval == 1.0  # bus keys
    for bad in ({"path": "x", "fsync_interval": float("inf")}, {"path": "x", "fsync_interval": True},
                {"path": "x", "fsync_interval": "1"}, {"path": ""}, {"path": 5}):
        with pytest.raises(ConfigError) as ei:
            JsonlSink(bad)
        assert ei.value.field in ("path", "fsync_interval")
