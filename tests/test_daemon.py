"""The daemon as users run it: ``gesturekit daemon --config FILE`` in a subprocess, with real
sinks and peers, signals, reload, status endpoint, fault isolation and loopback-only binding."""

import asyncio
import json
import os
import signal
import subprocess
from pathlib import Path

import jsonschema
import pytest
from peers import REPO, daemon_cmd, free_port, real_clip_recording, wait_for
from websockets.asyncio.client import connect

from gesturekit import ConfigError
from gesturekit.cli.status_cmd import fetch_status
from gesturekit.daemon import load_config

pytestmark = pytest.mark.timeout(180)

PLUGINS = Path(__file__).parent / "daemon_plugins"
SCHEMA = json.loads((REPO / "docs" / "event.schema.json").read_text())


class Daemon:
    """A daemon subprocess with its stderr in a file."""

    def __init__(self, cfg: Path, tmp: Path):
        self.log = tmp / "daemon.log"
        self._logf = open(self.log, "w")
        self.proc = subprocess.Popen(daemon_cmd(cfg), stdout=subprocess.DEVNULL, stderr=self._logf, cwd=REPO)

    def text(self) -> str:
        return self.log.read_text()

    def stop(self, sig=signal.SIGTERM, timeout=30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(5)
            self._logf.close()


def status(port):
    return fetch_status(f"http://127.0.0.1:{port}/status")


def wait_status(port, pred, timeout=60, what="daemon status"):
    def ok():
        try:
            return pred(status(port))
        except Exception:
            return False
    wait_for(ok, timeout=timeout, interval=0.1, what=what)


# --- config validation -----------------------------------------------------------------------------


def test_config_errors_name_file_line_and_field(tmp_path, cli):
    rec = real_clip_recording()
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(f"source: {rec}\nsinks:\n  ws:\n    type: websocket\n    port: seventy\n")
    r = cli("daemon", "--config", cfg, "--check")
    assert r.returncode == 2
    assert r.stderr.strip() == f"gesturekit: error: {cfg}:5: sinks.ws.port: must be a port number 0..65535"
    cases = {
        "source: {rec}\nsinks: {{out: {{type: stdout}}}}\ntypo_section: 1\n": (3, "typo_section", "unknown section"),
        "source: {rec}\nsinks:\n  out: {{type: nosuch}}\n": (3, "sinks.out.type", "unknown sink type 'nosuch'"),
        "source: {rec}\nsinks:\n  ws: {{type: websocket, host: 0.0.0.0}}\n": (3, "sinks.ws.host", "set a token"),
        "source: {rec}\nhealth: {{host: 10.1.2.3}}\nsinks: {{o: {{type: stdout}}}}\n": (2, "health.host", "token"),
        "source: {rec}\nbindings:\n  thumbs_up:start: ctrl+nokey\n": (3, "sinks.keyboard.bindings.thumbs_up:start",
                                                                      "unknown key"),
        "source: {rec}\nsinks: [a, b\n": (3, None, "invalid YAML"),
    }
    for text, (line, field, msg) in cases.items():
        cfg.write_text(text.format(rec=rec))
        with pytest.raises(ConfigError) as ei:
            from gesturekit.daemon import Daemon
            Daemon(load_config(str(cfg)), install_signals=False)
        e = ei.value
        assert (e.file, e.line, e.field) == (str(cfg), line, field) and msg in str(e), (text, str(e))
    cfg.write_text(f"source: {rec}\nsinks: {{out: {{type: jsonl, path: x.jsonl}}}}\n")
    r = cli("daemon", "--config", cfg, "--check")
    assert r.returncode == 0 and "OK" in r.stdout


# --- a run: SIGTERM drains, events validate, status shows counters ------------------------------------


def _loop_config(tmp, rec, extra="", health_port=None):
    health_port = health_port or free_port()
    cfg = tmp / "daemon.yaml"
    cfg.write_text(f"""
source: {{uri: {rec}, loop: true}}
sinks:
  file: {{type: jsonl, path: {tmp / 'events.jsonl'}}}
{extra}
health: {{port: {health_port}}}
bus: {{stats_interval: 1}}
""")
    return cfg, health_port


def test_sigterm_drains_queues_and_events_match_schema(tmp_path, cli):
    rec = real_clip_recording()
    cfg, hp = _loop_config(tmp_path, rec)
    d = Daemon(cfg, tmp_path)
    try:
        wait_status(hp, lambda s: s["events"] >= 40, what="40 events")
        r = cli("status", "--config", cfg)
        assert r.returncode == 0, r.stderr
        assert "file" in r.stdout and "delivered" in r.stdout and "thumb_up_video" in r.stdout
        wait_for(lambda: "sink 'file': delivered=" in d.text(), what="periodic counters in the log")
        final = status(hp)
    finally:
        rc = d.stop(signal.SIGTERM)
    assert rc == 0, d.text()
    lines = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert len(lines) >= final["events"]
    assert [e["seq"] for e in lines] == list(range(len(lines)))  # nothing lost, nothing out of order
    assert lines[-1]["phase"] == "end"  # active gestures are ended on shutdown
    for e in lines:
        jsonschema.validate(e, SCHEMA)
    log = d.text()
    assert "SIGTERM: shutting down" in log and "sink 'file' closed: delivered=" in log
    assert final["sinks"]["file"]["dropped"] == 0


def test_sighup_reload_keeps_websocket_clients(tmp_path):
    rec = real_clip_recording()
    ws_port = free_port()
    cfg, hp = _loop_config(tmp_path, rec, extra=f"  ws: {{type: websocket, port: {ws_port}}}")
    d = Daemon(cfg, tmp_path)
    try:
        wait_status(hp, lambda s: s["events"] > 0, what="events")

        async def client():
            async with connect(f"ws://127.0.0.1:{ws_port}") as ws:
                before = [json.loads(await asyncio.wait_for(ws.recv(), 20)) for _ in range(3)]
                text = cfg.read_text().replace("health:", f"  more: {{type: jsonl, path: {tmp_path / 'more.jsonl'}}}"
                                                          "\nhealth:")
                cfg.write_text(text)
                d.proc.send_signal(signal.SIGHUP)
                await asyncio.get_running_loop().run_in_executor(
                    None, lambda: wait_status(hp, lambda s: s["reloads"] == 1 and "more" in s["sinks"],
                                              what="the reload"))
                after = [json.loads(await asyncio.wait_for(ws.recv(), 20)) for _ in range(20)]
                clients = (await asyncio.get_running_loop().run_in_executor(None, status, hp))["sinks"]["ws"]["clients"]
                return before, after, clients

        before, after, clients = asyncio.run(client())
        assert clients == 1
        seqs = [e["seq"] for e in before + after]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # same connection, no gap
        assert status(hp)["sinks"]["ws"]["connections"] == 1  # never reconnected
        wait_for(lambda: (tmp_path / "more.jsonl").exists() and (tmp_path / "more.jsonl").stat().st_size > 0,
                 what="events in the sink added by the reload")
        # a broken config on SIGHUP is reported and the running one kept
        cfg.write_text("source: [\n")
        d.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: "reload failed, keeping the running config" in d.text(), what="the reload error")
        assert d.proc.poll() is None
    finally:
        assert d.stop() == 0, d.text()


def test_raising_classifier_plugin_is_reported_and_daemon_goes_on(tmp_path):
    rec = real_clip_recording()
    cfg, hp = _loop_config(tmp_path, rec, extra=f"plugin_paths: [{PLUGINS / 'bad_classifier.py'}]")
    d = Daemon(cfg, tmp_path)
    try:
        wait_status(hp, lambda s: s["events"] >= 20 and s["frames"] > 400, what="events despite the bad plugin")
        st = status(hp)
        assert st["plugin_errors"].get("bad_classifier", 0) >= 1
        assert d.proc.poll() is None
    finally:
        assert d.stop() == 0
    log = d.text()
    assert "plugin 'bad_classifier' failed: ZeroDivisionError: bad classifier exploded" in log


def _listening_addresses(pid: int) -> list[str]:
    """Local addresses of every TCP listening / UDP socket the process holds (from /proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            link = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    out = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for line in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            cols = line.split()
            local, state, inode = cols[1], cols[3], cols[9]
            if inode not in inodes or (table.startswith("tcp") and state != "0A"):  # 0A = LISTEN
                continue
            addr_hex = local.split(":")[0]
            if len(addr_hex) == 8:
                addr = ".".join(str(b) for b in bytes.fromhex(addr_hex)[::-1])
            else:
                addr = "ipv6:" + addr_hex
            out.append(f"{table} {addr}")
    return out


def test_daemon_binds_only_loopback_by_default(tmp_path):
    rec = real_clip_recording()
    extra = (f"  ws: {{type: websocket, port: 0}}\n  tcp: {{type: tcp, mode: listen, port: 0}}\n"
             f"  osc: {{type: osc, port: {free_port()}}}\n  udp: {{type: udp, port: {free_port()}}}")
    cfg, hp = _loop_config(tmp_path, rec, extra=extra)
    d = Daemon(cfg, tmp_path)
    try:
        wait_status(hp, lambda s: s["events"] > 0, what="events")
        addrs = _listening_addresses(d.proc.pid)
        assert len([a for a in addrs if a.startswith("tcp ")]) == 3, addrs  # ws, tcp, status endpoint
        assert all(a.endswith(" 127.0.0.1") or a.endswith(" 0.0.0.0") and a.startswith("udp") for a in addrs), addrs
        # UDP senders hold unbound (0.0.0.0, ephemeral) sockets: they send, they do not listen on a port
    finally:
        assert d.stop() == 0


def test_camera_loss_reconnects_with_backoff(tmp_path):
    rec = real_clip_recording()
    hp = free_port()
    cfg = tmp_path / "cam.yaml"
    cfg.write_text(f"""
source: {{type: flaky_camera, recording: {rec}, frames: 60, failed_reopens: 2}}
plugin_paths: [{PLUGINS / 'flaky_camera.py'}]
sinks:
  file: {{type: jsonl, path: {tmp_path / 'events.jsonl'}}}
health: {{port: {hp}}}
""")
    d = Daemon(cfg, tmp_path)
    try:
        wait_status(hp, lambda s: s["source"]["reconnects"] >= 3 and s["frames"] > 120, timeout=60,
                    what="reconnects and frames after them")
        assert d.proc.poll() is None
        log = d.text()
        assert "source flaky-cam lost (flaky-cam stopped delivering frames); reconnecting in 0.5 s" in log
        assert "source unavailable (flaky-cam could not be opened); retrying in 1.0 s" in log
        assert "retrying in 2.0 s" in log  # backoff grows
    finally:
        assert d.stop() == 0


def test_example_configs_validate_and_build():
    from gesturekit.daemon import Daemon

    for cfg in sorted((REPO / "examples").glob("*/daemon.yaml")):
        d = Daemon(load_config(str(cfg)), install_signals=False)
        assert d._sinks, cfg
