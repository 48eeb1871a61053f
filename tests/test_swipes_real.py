"""The library's swipes on real clips (``gesturekit run --source CLIP``, the full chain): flat-hand
swipes, a pointing finger flicked down and up through blurred frames, and clips of other
gestures that must give no swipe at all.

Before the sweep was measured across lost frames and with a pointing fingertip, the clips gave:
swipe_left_right left, right, left; swipe_up_down up, down (the last sweep up, which loses the
hand for four frames, was missed); fast_up_down nothing; zoom, dndv1 and clicks nothing.
"""

from __future__ import annotations

import json

import pytest
from conftest import run_cli
from shared_data import data_file

EXPECTED = {
    "swipe_left_right.mp4": ["swipe_left", "swipe_right", "swipe_left"],
    "swipe_up_down.mp4": ["swipe_up", "swipe_down", "swipe_up"],  # the overlay's own arrows: up, down, up
    "fast_up_down.mp4": ["swipe_down", "swipe_up"],  # a pointing finger, lost or blurred mid-flick
    "zoom.mp4": [],  # two L-shaped hands moving apart and together
    "dndv1.mp4": [],  # grab, move, release
    "clicks.mp4": [],  # a fist tilting down and back
}


@pytest.fixture(scope="module")
def events():
    out = {}
    for clip in EXPECTED:
        r = run_cli("run", "--source", data_file(f"dynamic/{clip}"))
        assert r.returncode == 0, r.stderr
        out[clip] = [json.loads(line) for line in r.stdout.splitlines() if line.strip()]
    return out


def _swipes(evs: list[dict]) -> list[str]:
    return [e["gesture"] for e in evs if e["gesture"].startswith("swipe_")]


@pytest.mark.parametrize("clip", list(EXPECTED))
def test_the_swipes_of_each_clip(events, clip):
    assert _swipes(events[clip]) == EXPECTED[clip]


def test_swipes_are_pulses_of_the_one_tracked_hand(events):
    for clip in ("swipe_left_right.mp4", "swipe_up_down.mp4", "fast_up_down.mp4"):
        swipes = [e for e in events[clip] if e["gesture"].startswith("swipe_")]
        assert {e["phase"] for e in swipes} == {"pulse"}
        assert {(h["id"], h["handedness"]) for e in swipes for h in e["hands"]} == {(1, "left")}, clip


def test_the_flick_down_is_reported_when_it_happens(events):
    # fast_up_down: the index points up until frame 9, points at the camera from frame 11, and
    # points up again from frame 46
    down, up = [e["frame"] for e in events["fast_up_down.mp4"] if e["gesture"].startswith("swipe_")]
    assert 10 <= down <= 16 and 44 <= up <= 49
