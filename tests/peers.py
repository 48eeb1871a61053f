"""Real peers for the sink and daemon tests: free ports, mosquitto, Xvfb, synthetic events.

A binary a test needs and cannot find fails the test with the Debian package to install
(never a skip): CI installs them from ``.ci/apt-packages.txt``.
"""

from __future__ import annotations

import functools
import getpass
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from gesturekit import GestureEvent

REPO = Path(__file__).resolve().parent.parent


def require_binary(name: str, package: str) -> str:
    """Absolute path of ``name``; fails the test naming the Debian package when missing."""
    path = shutil.which(name) or (f"/usr/sbin/{name}" if os.path.exists(f"/usr/sbin/{name}") else None)
    if path is None:
        pytest.fail(f"{name} is not installed: apt-get install {package} (listed in .ci/apt-packages.txt)",
                    pytrace=False)
    return path


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def wait_for(pred, timeout: float = 10.0, interval: float = 0.02, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Mosquitto:
    """A real mosquitto broker on 127.0.0.1:port with persistence, stoppable and restartable."""

    def __init__(self, workdir: Path) -> None:
        self.binary = require_binary("mosquitto", "mosquitto")
        self.port = free_port()
        self.dir = workdir
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {workdir}/\nautosave_interval 1\nmax_queued_messages 0\n"
            f"log_dest file {workdir}/mosquitto.log\n"
            # started as root, mosquitto would drop to user "mosquitto", which cannot write here
            f"user {getpass.getuser()}\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen([self.binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            self.proc = None


class Xvfb:
    """A real X server (Xvfb) on a free display number."""

    def __init__(self) -> None:
        self.binary = require_binary("Xvfb", "xvfb")
        self.proc: subprocess.Popen | None = None
        self.display = ""

    def start(self) -> str:
        for n in range(90, 190):
            if os.path.exists(f"/tmp/.X{n}-lock") or os.path.exists(f"/tmp/.X11-unix/X{n}"):
                continue
            proc = subprocess.Popen([self.binary, f":{n}", "-screen", "0", "800x600x24", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and proc.poll() is None:
                if os.path.exists(f"/tmp/.X11-unix/X{n}"):
                    self.proc, self.display = proc, f":{n}"
                    time.sleep(0.2)
                    return self.display
                time.sleep(0.05)
            proc.kill()
            proc.wait(5)
        raise AssertionError("could not start Xvfb on any display :90..:189")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None


def events(n: int, gesture: str = "pinch", source: str = "synthetic", values: bool = True) -> list[GestureEvent]:
    """``n`` synthetic events with increasing ``seq`` (a start, updates, an end)."""
    out = []
    for i in range(n):
        phase = "start" if i == 0 else ("end" if i == n - 1 else "update")
        out.append(GestureEvent(gesture, phase, t=i / 30, seq=i, hands=({"id": 1, "handedness": "right"},),
                                score=0.9, values={"distance": i / n} if values else {}, source=source, frame=i))
    return out


@functools.cache
def real_clip_recording(clip: str = "tracking/thumb_up_video.mp4", model: str = "lite") -> Path:
    """Track a real clip once per test session (MediaPipe, lite model) and return the landmark
    recording (``.jsonl``) that ReplaySource and the daemon replay without MediaPipe."""
    from shared_data import data_file

    src = data_file(clip)
    out = Path(tempfile.mkdtemp(prefix="gk-clip-")) / (Path(clip).stem + f".{model}.jsonl")
    r = subprocess.run([sys.executable, "-m", "gesturekit", "run", "--source", str(src), "--model", model,
                        "--record-landmarks", str(out)], capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 0, f"tracking {clip} failed: {r.stderr[-2000:]}"
    return out


def daemon_cmd(config: Path) -> list[str]:
    return [sys.executable, "-m", "gesturekit", "daemon", "--config", str(config)]
