"""The browser example (examples/browser/index.html) in a real headless Chromium, fed by the real
WebSocket sink: it connects with its token, shows gestures as they start and end, and draws the
hands from the frame stream."""

from __future__ import annotations

import shutil
import time

import numpy as np
import pytest
from shared_data import REPO

from gesturekit import Frame, GestureEvent, Hand
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager

PAGE = REPO / "examples" / "browser" / "index.html"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.fail("Debian's chromium is not installed (bash scripts/test.sh installs it)", pytrace=False)
    return path


@pytest.fixture
def sink():
    # the page is opened from file://, which sends Origin: null: allowed here on purpose, the token still applies
    options = {"port": 0, "token": "s3cret", "frames": True, "origins": ["null"]}
    s = collect_factories(get_plugin_manager(), "sinks")["websocket"](options)
    s.open()
    yield s
    s.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def _wait(cond, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def _event(gesture: str, phase: str, seq: int) -> GestureEvent:
    return GestureEvent(gesture, phase, t=seq * 0.1, seq=seq, hands=({"id": 1, "handedness": "right"},),
                        values={"distance": 0.25} if gesture == "pinch" else {}, source="test", frame=seq)


def _hand_frame() -> Frame:
    keypoints = np.stack([np.linspace(100, 500, 21), np.linspace(300, 60, 21)], axis=1)
    hand = Hand(1, "right", 0.9, 0.9, keypoints, np.zeros((21, 3)))
    return Frame(index=0, t=0.0, width=640, height=360, source="test", hands=(hand,))


def _ink(page) -> int:
    """Number of non-transparent pixels on the page's hand canvas."""
    return page.evaluate("""() => {
        const c = document.getElementById('hands');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def test_page_shows_gestures_and_draws_hands(sink, page):
    page.goto(f"{PAGE.as_uri()}?url=ws://127.0.0.1:{sink.port}&token=s3cret")
    _wait(lambda: page.inner_text("#state") == "connected" and sink.client_count == 1)
    sink.send(_event("thumbs_up", "start", 0))
    _wait(lambda: page.inner_text("#gesture") == "thumbs_up")
    sink.send(_event("thumbs_up", "end", 1))
    _wait(lambda: page.inner_text("#gesture") == "—")
    sink.send(_event("pinch", "start", 2))
    _wait(lambda: page.inner_text("#gesture") == "pinch")
    assert page.inner_text("#log").splitlines()[0] == '2 pinch start {"distance":0.25}'
    sink.send(_event("ok", "start", 3))  # two gestures at once: both shown, one ends, the other stays
    _wait(lambda: page.inner_text("#gesture") == "pinch, ok")
    sink.send(_event("pinch", "end", 4))
    _wait(lambda: page.inner_text("#gesture") == "ok")
    assert _ink(page) == 0
    # The page asked for frames (?frames=1): the frame stream reaches it and it draws the hand.
    sink.send_frame(_hand_frame())
    _wait(lambda: _ink(page) > 500)


def test_page_with_a_wrong_token_is_refused(sink, page):
    page.goto(f"{PAGE.as_uri()}?url=ws://127.0.0.1:{sink.port}&token=wrong")
    _wait(lambda: "disconnected" in page.inner_text("#state"))
    assert sink.client_count == 0
    sink.send(_event("thumbs_up", "start", 0))
    time.sleep(0.3)
    assert page.inner_text("#gesture") == "—"
