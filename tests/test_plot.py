"""``gesturekit plot``: a real landmark recording (MediaPipe on the ASL clip) as a PNG."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from gesturekit import GestureEvent
from gesturekit.cli.plot_cmd import Interval, gesture_timeline, trajectories
from gesturekit.sources.recording import ReplaySource


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    from conftest import run_cli
    from shared_data import data_file

    d = tmp_path_factory.mktemp("plot")
    rec, events = d / "rec.jsonl", d / "events.jsonl"
    r = run_cli("run", "--source", data_file("tracking/asl_hand.25fps.mp4"), "--model", "lite", "--max-frames", "200",
                "--record-landmarks", rec, timeout=240)
    assert r.returncode == 0, r.stderr
    events.write_text(r.stdout)
    return rec, [json.loads(line) for line in r.stdout.splitlines()]


def _intervals(events: list[dict]) -> list[dict]:
    """The timeline the events describe, computed here independently of plot_cmd."""
    out, open_ = [], {}
    for e in events:
        key = (e["gesture"], tuple(h["id"] for h in e["hands"]))
        if e["phase"] == "start":
            open_[key] = e["t"]
        elif e["phase"] == "end":
            out.append({"gesture": key[0], "hands": list(key[1]), "start": open_.pop(key), "end": e["t"],
                        "pulse": False})
        elif e["phase"] == "pulse":
            out.append({"gesture": key[0], "hands": list(key[1]), "start": e["t"], "end": e["t"], "pulse": True})
    assert not open_  # run ends every gesture
    return sorted(out, key=lambda i: (i["start"], i["gesture"]))


@pytest.mark.parametrize("from_file", [False, True], ids=["classified", "events-file"])
def test_plot_writes_the_picture_and_the_recordings_timeline(cli, recording, tmp_path, from_file):
    rec, events = recording
    png = tmp_path / "plot.png"
    extra = ["--events", rec.with_name("events.jsonl")] if from_file else []
    r = cli("plot", rec, "--out", png, "--size", "1200x800", "--json", *extra, timeout=120)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout)
    assert (info["width"], info["height"], info["frames"], info["tracks"]) == (1200, 800, 200, [1])
    assert info["events"] == ("file" if from_file else "classified")
    want = _intervals(events)
    assert len(want) >= 3 and {i["gesture"] for i in want} >= {"fist"}
    got = info["timeline"]
    assert [(i["gesture"], i["hands"], i["pulse"]) for i in got] == [(i["gesture"], i["hands"], i["pulse"])
                                                                    for i in want]
    np.testing.assert_allclose([(i["start"], i["end"]) for i in got], [(i["start"], i["end"]) for i in want],
                               atol=1e-6)
    img = cv2.imread(str(png))
    assert img is not None and img.shape == (800, 1200, 3)
    # not blank: plot lines in colour, and a bar per gesture row in the timeline panel
    coloured = np.ptp(img.astype(int), axis=2) > 60
    assert coloured.mean() > 0.01
    assert len(np.unique(img.reshape(-1, 3), axis=0)) > 50


def test_trajectories_are_the_recorded_keypoints(recording):
    rec, _ = recording
    frames = ReplaySource(str(rec)).frames
    tr = trajectories(frames, [0, 8])
    t, xy = tr[1]
    assert xy.shape == (200, 2, 2) and np.allclose(t, np.arange(200) / 25)
    np.testing.assert_array_equal(xy[57, 1], frames[57].hands[0].keypoints[8])


def test_gesture_timeline_pairs_phases():
    h1, h2 = ({"id": 1, "handedness": "right"},), ({"id": 2, "handedness": "left"},)
    evs = [GestureEvent("pinch", "start", 0.5, 0, h1), GestureEvent("pinch", "start", 0.6, 1, h2),
           GestureEvent("pinch", "update", 0.7, 2, h1), GestureEvent("pinch", "end", 1.0, 3, h1),
           GestureEvent("swipe_left", "pulse", 1.2, 4, h1), GestureEvent("fist", "start", 1.5, 5, h2)]
    assert gesture_timeline(evs, t_end=2.0) == [
        Interval("pinch", (1,), 0.5, 1.0), Interval("pinch", (2,), 0.6, 2.0),
        Interval("swipe_left", (1,), 1.2, 1.2, True), Interval("fist", (2,), 1.5, 2.0)]


def test_plot_bad_input_fails_in_one_line(cli, tmp_path, data):
    r = cli("plot", data("tracking/hands.jpg"), "--out", tmp_path / "p.png")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0
    assert "expected a landmark recording" in r.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"format": "gesturekit.frames/1"}\n{"index": 0}\n')
    r = cli("plot", bad, "--out", tmp_path / "p.png")
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0 and "bad.jsonl:2" in r.stderr
    r = cli("plot", bad, "--out", tmp_path / "p.png", "--size", "10x10")
    assert r.returncode == 2 and "--size" in r.stderr
