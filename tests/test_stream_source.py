"""A live HTTP stream (MJPEG, as IP cameras serve it) made from a real clip: the stream source
tracks it, hands over the newest frames, and reconnects with backoff when the stream goes away."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2
import pytest

from gesturekit.sources import StreamSource, ThreadedReader


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class MjpegServer:
    """Serves the frames of a clip as an endless multipart/x-mixed-replace JPEG stream at 25 fps."""

    def __init__(self, jpegs: list[bytes], port: int) -> None:
        self.stop = threading.Event()
        jpegs_, stop = jpegs, self.stop

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i = 0
                try:
                    while not stop.is_set():
                        b = jpegs_[i % len(jpegs_)]
                        i += 1
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(b)
                                         + b + b"\r\n")
                        time.sleep(0.04)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def jpegs(data):
    cap = cv2.VideoCapture(str(data("tracking/asl_hand.25fps.mp4")))
    out = []
    while len(out) < 100:
        ok, img = cap.read()
        if not ok:
            break
        out.append(cv2.imencode(".jpg", img)[1].tobytes())
    cap.release()
    return out


@pytest.fixture(scope="module")
def data():
    from shared_data import data_file

    return data_file


def test_run_tracks_a_live_http_stream(cli, jpegs, tmp_path):
    port = _free_port()
    server = MjpegServer(jpegs, port)
    try:
        out = tmp_path / "frames.jsonl"
        r = cli("run", "--source", f"http://127.0.0.1:{port}/stream.mjpg", "--model", "lite", "--no-mirrored",
                "--max-frames", "30", "--frames-jsonl", out, timeout=120)
    finally:
        server.close()
    assert r.returncode == 0, r.stderr
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(frames) == 30
    assert all(len(f["hands"]) == 1 for f in frames)  # the ASL hand is in every frame of the clip
    assert (frames[0]["width"], frames[0]["height"]) == (620, 1080)
    ts = [f["t"] for f in frames]
    assert ts == sorted(ts) and ts[-1] > 0.5  # capture-clock time of a live source
    assert frames[0]["source"] == f"http://127.0.0.1:{port}/stream.mjpg"


def test_stream_loss_reconnects_with_backoff(jpegs, caplog):
    port = _free_port()
    server = MjpegServer(jpegs, port)
    src = StreamSource(f"http://127.0.0.1:{port}/stream.mjpg")
    reader = ThreadedReader(src)
    caplog.set_level(logging.WARNING, logger="gesturekit.sources")
    got_before, got_after = 0, 0
    restarted = None
    deadline = time.monotonic() + 45
    try:
        for item in reader:
            assert item.image is not None and item.image.shape == (1080, 620, 3)
            if restarted is None:
                got_before += 1
                if got_before == 10:
                    server.close()  # the camera goes away ...
                    time.sleep(1.0)
                    server = MjpegServer(jpegs, port)  # ... and comes back on the same address
                    restarted = time.monotonic()
            else:
                got_after += 1
                if got_after >= 10:
                    break
            assert time.monotonic() < deadline, "no frames after the stream came back"
    finally:
        reader.close()
        server.close()
    assert got_after >= 10
    assert src.reconnects >= 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("lost; reconnecting in" in m for m in messages), messages
    assert any(m.endswith("reconnected") for m in messages), messages


def test_daemon_survives_a_stream_that_goes_away_and_comes_back(jpegs, tmp_path):
    """The daemon on a real live stream: events flow, the stream dies, the daemon logs the loss and
    reconnects with backoff, events flow again with seq continuing, and SIGTERM ends it cleanly."""
    import signal
    import subprocess
    import sys

    from peers import wait_for

    from gesturekit.cli.status_cmd import fetch_status

    port, hp = _free_port(), _free_port()
    events = tmp_path / "events.jsonl"
    cfg = tmp_path / "stream.yaml"
    cfg.write_text(f"""
source: http://127.0.0.1:{port}/stream.mjpg
tracker: {{model: lite, mirrored: false}}
sinks:
  file: {{type: jsonl, path: {events}}}
health: {{port: {hp}}}
bus: {{stats_interval: 0}}
""")
    server = MjpegServer(jpegs, port)
    log = tmp_path / "daemon.log"
    with open(log, "w") as logf:
        proc = subprocess.Popen([sys.executable, "-m", "gesturekit", "daemon", "--config", str(cfg)],
                                stdout=subprocess.DEVNULL, stderr=logf)
    try:
        def seqs() -> list[int]:
            return [json.loads(x)["seq"] for x in events.read_text().splitlines()] if events.exists() else []

        def frames() -> int:
            try:
                return int(fetch_status(f"http://127.0.0.1:{hp}/status")["frames"])
            except Exception:
                return 0

        # the clip's first 100 frames show the ASL letters A, then others: gestures start and end
        wait_for(lambda: len(seqs()) >= 2, timeout=60, what="events from the live stream")
        server.close()
        wait_for(lambda: "reconnecting in" in log.read_text(), timeout=30, what="the loss to be logged")
        before, frames_before = len(seqs()), frames()
        time.sleep(1.0)
        server = MjpegServer(jpegs, port)
        wait_for(lambda: frames() > frames_before + 30, timeout=60, what="frames after the stream came back")
        assert proc.poll() is None  # never exits for a lost stream
        wait_for(lambda: len(seqs()) > before, timeout=60, what="events after the stream came back")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        server.close()
    assert code == 0, log.read_text()
    got = seqs()
    assert got == list(range(len(got)))  # nothing lost or repeated in the sink, across the reconnect
    status_log = log.read_text()
    assert "lost" in status_log and "reconnecting in" in status_log
