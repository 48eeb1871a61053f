"""``gesturekit view``: a real window on a real X server (Xvfb), and one line without a display."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from shared_data import REPO

from gesturekit.cli.view_cmd import FpsMeter


def _env(**over: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.update(over)
    return env


def _view(*args: str, env: dict[str, str], **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "gesturekit", "view", *map(str, args)], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


@pytest.fixture
def xvfb():
    """A fresh Xvfb server; yields its DISPLAY."""
    exe = shutil.which("Xvfb")
    assert exe, "Xvfb is needed (apt-get install xvfb; listed in .ci/apt-packages.txt)"
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", "1280x1200x24", "-nolisten", "tcp"],
                            pass_fds=(w,), stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        number = f.readline().strip()
    assert number.isdigit(), "Xvfb did not start"
    try:
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(10)


def _grab(display: str) -> np.ndarray:
    from PIL import ImageGrab

    return np.asarray(ImageGrab.grab(xdisplay=display))[..., :3]  # RGB


def test_view_shows_the_overlay_in_a_window(xvfb, data):
    proc = _view("--source", data("tracking/asl_hand.25fps.mp4"), "--model", "lite", "--max-frames", "150",
                 env=_env(DISPLAY=xvfb))
    seen, stats = None, []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        screen = _grab(xvfb)
        r, g, b = (screen[..., i].astype(np.int16) for i in range(3))
        wrist = (r > 200) & (b > 200) & (g < 60)  # the overlay's magenta wrist disc
        sky = (b > 200) & (r < 200)  # the clip's pale blue background
        if wrist.sum() > 40 and sky.sum() > 100_000:
            seen = screen, np.argwhere(wrist).mean(axis=0)
            break
        stats.append((int(wrist.sum()), int(sky.sum())))
        time.sleep(0.1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert err.strip().splitlines()[-1] == "gesturekit view: 150 frames shown"
    assert seen is not None, f"no window with the overlay appeared on the X server {xvfb}: {stats}"
    screen, (y, x) = seen
    # the window (620 x 1080 frames at the top left of the screen) has the wrist low in the middle
    assert 150 < x < 500 and 500 < y < 900, (x, y)


def test_view_without_a_display_fails_in_one_line(data):
    p = _view("--source", data("tracking/asl_hand.25fps.mp4"), env=_env())
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2 and out == ""
    assert err.strip().splitlines() == [
        "gesturekit: error: no display to open a window on (DISPLAY is not set); use `gesturekit run --annotate "
        "OUT.mp4` to draw into a video instead"]
    p = _view("--source", data("tracking/asl_hand.25fps.mp4"), env=_env(DISPLAY=":59731"))
    out, err = p.communicate(timeout=60)
    assert p.returncode == 2
    assert err.strip().splitlines() == [
        "gesturekit: error: cannot reach the X display ':59731'; use `gesturekit run --annotate OUT.mp4` to draw "
        "into a video instead"]


def test_fps_meter():
    m = FpsMeter(window=5)
    assert m.tick(0.0) is None
    for k in range(1, 10):
        fps = m.tick(k * 0.04)
    assert fps == pytest.approx(25.0)
