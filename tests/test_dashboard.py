"""The daemon's web dashboard: the real daemon replays a synthetic landmark recording in real
time and a real headless Chromium (Playwright) shows it: hands drawn on the canvas, the same
events a JSONL sink got, gesture states, sink counters and the explain readout. The HTTP rules
(token, Host, Origin, strict JSON) are checked against the real server.

``GESTUREKIT_DASHBOARD_PNG=docs/img/dashboard.png pytest tests/test_dashboard.py -k replay``
also writes the screenshot the docs show.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import textwrap
import threading
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from peers import REPO, daemon_cmd, free_port, wait_for, wait_port
from synthetic import Timeline

from gesturekit import Frame, GestureEvent, Hand
from gesturekit.daemon.dashboard import Dashboard
from gesturekit.daemon.health import HealthServer
from gesturekit.sources.recording import FrameWriter

pytestmark = pytest.mark.timeout(180)

TOKEN = "s3cret"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _strict(text: str):
    def refuse(name):
        raise AssertionError(f"{name} in JSON")

    return json.loads(text, parse_constant=refuse)


def _get(url: str, headers: dict | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed (bash scripts/test.sh installs it)", pytrace=False)
    return path


def session() -> Timeline:
    """~9 s: a hand opens its palm and closes it into a fist, then another hand pinches; a
    quiet start so the page is connected before the first gesture."""
    tl = Timeline(fps=15)
    tl.gap(1.5)
    tl.transition("relaxed", duration=0.0, hold=0.8, track_id=1)
    tl.transition("open_palm", duration=0.35, hold=1.4, track_id=1)
    tl.transition("fist", duration=0.4, hold=1.2, track_id=1)
    tl.gap(0.4)
    tl.transition("relaxed", duration=0.0, hold=0.4, track_id=2)
    tl.transition("pinch", duration=0.35, hold=1.6, track_id=2)
    tl.gap(0.6)
    return tl


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _ink(page) -> int:
    """Non-transparent pixels on the hands canvas."""
    return page.evaluate("""() => {
        const c = document.getElementById('skeleton');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def test_replay_in_chromium_shows_hands_events_states_sinks_and_explain(browser, tmp_path):
    rec = tmp_path / "session.jsonl"
    with FrameWriter(str(rec)) as w:
        for f in session().frames():
            w.write(f)
    port = free_port()
    events_file = tmp_path / "events.jsonl"
    cfg = tmp_path / "daemon.yaml"
    cfg.write_text(textwrap.dedent(f"""
        source: {{uri: {rec}, realtime: true}}
        health: {{port: {port}, token: {TOKEN}, dashboard: {{enabled: true, frame_rate: 15, explain_rate: 5}}}}
        sinks:
          file: {{type: jsonl, path: {events_file}}}
    """))
    page = browser.new_page(viewport={"width": 1440, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    proc = subprocess.Popen(daemon_cmd(cfg), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_port(port, timeout=30)
        base = f"http://127.0.0.1:{port}"
        page.goto(f"{base}/dashboard/?token={TOKEN}")
        page.wait_for_function("() => window.dashboard && document.getElementById('conn').dataset.state === 'live'",
                               timeout=20000)

        # the HTTP rules, on the running daemon
        assert _get(f"{base}/dashboard/stream")[0] == 401
        assert _get(f"{base}/status")[0] == 401
        assert _get(f"{base}/dashboard/app.js", {"Origin": "http://evil.example"})[0] == 403
        assert _get(f"{base}/status?token={TOKEN}", {"Origin": "null"})[0] == 403
        assert _get(f"{base}/dashboard/", {"Host": "evil.example"})[0] == 403
        code, body = _get(f"{base}/status", {"Authorization": f"Bearer {TOKEN}", "Origin": base})
        assert code == 200 and _strict(body.decode())["dashboard"]["clients"] == 1

        # hands on the canvas, the explain panel, a gesture active, sink counters
        page.wait_for_function("() => window.dashboard.handsDrawn > 0", timeout=20000)
        wait_for(lambda: _ink(page) > 500, timeout=10, what="hands drawn on the canvas")
        page.wait_for_selector("#fingers td.finger-state", timeout=10000)
        states = page.locator("#fingers td.finger-state").all_inner_texts()
        assert len(states) == 5 and set(states) <= {"extended", "half", "curled"}, states
        assert page.locator("#conditions .gesture-block").count() > 5
        page.wait_for_selector('#gestures [data-gesture="open_palm"][data-state="active"]', timeout=10000)
        page.wait_for_function("() => document.querySelector('#sinks tr[data-sink=file] .delivered') && "
                               "+document.querySelector('#sinks tr[data-sink=file] .delivered').textContent > 0",
                               timeout=10000)
        # a screenshot while the fist is shown (the explain panel says why the palm let go)
        page.wait_for_selector('#gestures [data-gesture="fist"][data-state="active"]', timeout=10000)
        page.wait_for_timeout(400)
        shot = tmp_path / "dashboard.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20000
        docs_png = os.environ.get("GESTUREKIT_DASHBOARD_PNG")
        if docs_png:
            shutil.copyfile(shot, REPO / docs_png if not os.path.isabs(docs_png) else docs_png)

        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        page.wait_for_function("() => window.dashboard.stopped", timeout=10000)  # "bye": everything was sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)

    sink_events = [_strict(line) for line in events_file.read_text().splitlines()]
    seen = page.evaluate("() => window.dashboard.events")
    assert [(e["seq"], e["gesture"], e["phase"]) for e in seen] == \
        [(e["seq"], e["gesture"], e["phase"]) for e in sink_events]
    assert seen == sink_events  # the very same events, field for field
    assert {"open_palm", "fist", "pinch"} <= {e["gesture"] for e in seen}
    assert page.locator("#log tbody tr").count() == len(sink_events)
    assert page.locator('#gestures [data-state="active"]').count() == 0  # everything ended
    assert not errors, errors


# the server's rules without a browser -------------------------------------------------------------
def _hand_frame(i: int) -> Frame:
    kp = np.stack([np.linspace(100, 500, 21), np.linspace(300, 60, 21)], axis=1)
    return Frame(index=i, t=i / 30, width=640, height=480, source="t",
                 hands=(Hand(1, "right", 0.9, 0.9, kp, np.zeros((21, 3))),))


class _Explainer:
    names = ("pinch",)

    def explain_last(self):
        return [{"hand": 1, "handedness": "right", "fingers": {}, "distances": {"d": float("nan")},
                 "conditions": [], "gestures": []}]


@pytest.fixture
def server():
    dash = Dashboard(lambda: {"rules": _Explainer()}, frame_rate=1000, explain_rate=1000, history=3)
    srv = HealthServer(lambda: {"status": "running", "fps": float("inf")}, port=0, token=TOKEN, dashboard=dash)
    srv.start()
    yield srv, dash
    srv.close()


def _read_stream(port: int, out: list[tuple[str, dict]], done: threading.Event) -> None:
    req = urllib.request.Request(f"http://127.0.0.1:{port}/dashboard/stream?token={TOKEN}")
    with urllib.request.urlopen(req, timeout=10) as r:
        assert r.headers["Content-Type"].startswith("text/event-stream")
        kind = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                out.append((kind, _strict(line[6:])))
                if kind == "bye":
                    break
    done.set()


def test_stream_sends_history_events_frames_explain_then_bye_in_strict_json(server):
    srv, dash = server
    for i in range(5):
        dash.gesturekit_event(GestureEvent("pinch", "start" if i == 0 else "update", t=i, seq=i))
    got: list[tuple[str, dict]] = []
    done = threading.Event()
    t = threading.Thread(target=_read_stream, args=(srv.port, got, done), daemon=True)
    t.start()
    wait_for(lambda: dash.clients == 1, what="the page to connect")
    dash.gesturekit_frame(_hand_frame(7), [])
    for i in range(5, 8):
        dash.gesturekit_event(GestureEvent("pinch", "end" if i == 7 else "update", t=i, seq=i))
    srv.close()  # ends the stream after what was queued
    assert done.wait(10)
    kinds = [k for k, _ in got]
    assert kinds[0] == "hello" and kinds[-1] == "bye"
    hello = got[0][1]
    assert hello["gestures"] == ["pinch"] and [e["seq"] for e in hello["history"]] == [2, 3, 4]  # history: 3
    assert [d["seq"] for k, d in got if k == "gesture"] == [5, 6, 7]
    frame = next(d for k, d in got if k == "frame")
    assert frame["index"] == 7 and len(frame["hands"][0]["keypoints"]) == 21
    explain = next(d for k, d in got if k == "explain")
    assert explain["hands"][0]["distances"] == {"d": None}  # NaN is no JSON: null


def test_http_rules_token_host_origin_and_static_files(server):
    srv, _ = server
    base = f"http://127.0.0.1:{srv.port}"
    code, body = _get(f"{base}/dashboard/")
    assert code == 200 and b'<canvas id="skeleton"' in body  # the page itself needs no token
    for name in ("app.js", "style.css"):
        assert _get(f"{base}/dashboard/{name}")[0] == 200
    assert b"http" not in _get(f"{base}/dashboard/")[1].split(b"-->", 1)[1].replace(b"http://127", b"")  # no CDN
    assert _get(f"{base}/dashboard/../../etc/passwd")[0] == 404
    assert _get(f"{base}/dashboard/secret.txt")[0] == 404
    assert _get(f"{base}/dashboard/stream")[0] == 401
    assert _get(f"{base}/dashboard/stream?token=wrong")[0] == 401
    code, body = _get(f"{base}/status?token={TOKEN}")
    assert code == 200 and _strict(body.decode())["fps"] is None  # strict JSON: inf is null
    assert _get(f"{base}/status?token={TOKEN}", {"Origin": f"http://127.0.0.1:{srv.port}"})[0] == 200
    assert _get(f"{base}/status?token={TOKEN}", {"Origin": "http://localhost:3000"})[0] == 200
    for origin in ("null", "http://evil.example", "https://127.0.0.1.evil.example"):
        assert _get(f"{base}/status?token={TOKEN}", {"Origin": origin})[0] == 403, origin
        assert _get(f"{base}/dashboard/", {"Origin": origin})[0] == 403, origin
    assert _get(f"{base}/dashboard/", {"Host": "rebind.example:80"})[0] == 403


def test_dashboard_setting_and_static_files_are_package_data():
    from gesturekit.settings import Settings

    assert Settings.model_validate({"health": {"dashboard": True}}).health.dashboard.enabled
    assert not Settings().health.dashboard.enabled
    with pytest.raises(Exception, match="frame_rate"):
        Settings.model_validate({"health": {"dashboard": {"enabled": True, "frame_rate": 0}}})
    pyproject = (REPO / "pyproject.toml").read_text()
    assert '"daemon/dashboard/*"' in pyproject
    here = Path(REPO / "gesturekit" / "daemon" / "dashboard")
    assert {p.name for p in here.iterdir()} >= {"index.html", "app.js", "style.css"}
