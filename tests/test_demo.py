"""``gesturekit demo --synthetic``: the bundled synthetic session through the real chain."""

from __future__ import annotations

import json

import numpy as np
import pytest
from synthetic.demo_session import STATIC_ORDER, SWIPES, build_timeline, write_session

from gesturekit.cli.demo import footage_path, session_path

STATIC = set(STATIC_ORDER)
PULSES = set(SWIPES)
TWO_HAND = {"zoom_in", "zoom_out"}
LIBRARY = STATIC | PULSES | TWO_HAND


def _script() -> list[tuple[float, float, str]]:
    with open(session_path(), encoding="utf-8") as f:
        head = json.loads(f.readline())
    assert head["synthetic"] is True and head["format"] == "gesturekit.frames/1"
    return [(a, b, label) for a, b, label in head["script"]]


@pytest.fixture(scope="module")
def demo_json():
    from conftest import run_cli

    r = run_cli("demo", "--synthetic", "--json", timeout=120)
    assert r.returncode == 0, r.stderr
    assert "SYNTHETIC" in r.stderr  # the input is said to be synthetic even in JSON mode
    return [json.loads(line) for line in r.stdout.splitlines()]


def test_demo_json_has_every_library_gesture_with_the_right_phases(demo_json):
    events = demo_json
    assert [e["seq"] for e in events] == list(range(len(events)))
    by = {}
    for e in events:
        by.setdefault(e["gesture"], []).append(e)
    assert LIBRARY <= set(by), f"missing: {sorted(LIBRARY - set(by))}"
    assert set(by) <= LIBRARY, f"not library gestures: {sorted(set(by) - LIBRARY)}"
    for g in STATIC | TWO_HAND:
        phases = [e["phase"] for e in by[g]]
        # every start has its end (gestures still active when the source ends get theirs)
        assert phases.count("start") >= 1 and phases.count("start") == phases.count("end"), (g, phases)
        assert set(phases) <= {"start", "hold", "update", "end"}
        depth: dict[tuple, int] = {}  # per track (gesture, hands): start, then its end, then maybe again
        for e in by[g]:
            key = tuple(h["id"] for h in e["hands"])
            depth[key] = depth.get(key, 0) + (e["phase"] == "start") - (e["phase"] == "end")
            assert depth[key] in (0, 1), (g, key, e)
            if e["phase"] in ("hold", "update"):
                assert depth[key] == 1, (g, e)
    for g in PULSES:
        assert {e["phase"] for e in by[g]} == {"pulse"}, g
    for g in TWO_HAND:
        for e in by[g]:
            assert len(e["hands"]) == 2 and {h["handedness"] for h in e["hands"]} == {"left", "right"}
    assert all(e["source"] and e["t"] >= 0 for e in events)
    # continuous values come with the gestures that have them
    assert any(e["phase"] == "start" and "distance" in str(e["values"]) for e in by["zoom_in"])


def test_demo_events_happen_while_the_performer_does_them(demo_json):
    """Each performed gesture is reported during (or right after) its own part of the script."""
    starts = {}
    for e in demo_json:
        if e["phase"] in ("start", "pulse"):
            starts.setdefault(e["gesture"], []).append(e["t"])
    for a, b, label in _script():
        if label in LIBRARY:
            ts = np.array(starts.get(label, []))
            assert np.any((ts >= a - 0.4) & (ts <= b + 0.6)), f"{label} not reported in [{a}, {b}]: {ts}"
    # a static gesture the performer shows once starts once (no flicker), except open_palm which
    # is also the swiping and zooming hand, and pinch which accompanies ok
    for g in STATIC - {"open_palm", "pinch"}:
        assert len(starts[g]) == 1, (g, starts[g])


def test_demo_readable_log(cli):
    r = cli("demo", "--synthetic", timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert "SYNTHETIC input" in out.splitlines()[0]
    lines = out.splitlines()
    for g in LIBRARY:
        phases = {ln.split("|")[-1].split()[0] for ln in lines if "|" in ln and f" {g} " in ln.split("|")[-1] + " "}
        want = {"pulse"} if g in PULSES else {"start", "end"}
        assert want <= phases, (g, phases)
    assert "The synthetic performer showed 19 gestures; 19 were recognised." in out
    assert "Not recognised" not in out


def test_demo_with_a_missing_camera_fails_in_one_line(cli):
    r = cli("demo", "--camera", "7", timeout=60)
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        "gesturekit: error: camera 7 cannot be opened; run `gesturekit demo` without --camera for the bundled "
        "real footage (or --synthetic)"]


def test_bundled_session_matches_its_generator(tmp_path):
    """The committed session is what the generator writes (regenerate it after changing poses)."""
    fresh = tmp_path / "s.jsonl"
    n = write_session(fresh)
    assert n == round(build_timeline().duration * 15)

    def frames(p):
        with open(p, encoding="utf-8") as f:
            return [json.loads(line) for line in f][1:]

    got, want = frames(session_path()), frames(fresh)
    assert len(got) == len(want) == n
    for a, b in zip(got, want, strict=True):
        ids = [h["id"] for h in a["hands"]], [h["id"] for h in b["hands"]]
        assert (a["index"], a["t"], ids[0]) == (b["index"], b["t"], ids[1])
        for ha, hb in zip(a["hands"], b["hands"], strict=True):
            np.testing.assert_allclose(ha["keypoints"], hb["keypoints"], atol=0.02)


# ---- the main job without a camera: real footage ---------------------------------------------
@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    """``gesturekit demo`` on a machine with no camera and no display."""
    import os
    import subprocess
    import sys

    from shared_data import REPO

    out = tmp_path_factory.mktemp("demo") / "demo.mp4"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run([sys.executable, "-m", "gesturekit", "demo", "--out", str(out)], capture_output=True, text=True,
                       timeout=300, cwd=REPO, env=env)
    return r, out


def test_demo_runs_the_real_tracker_on_the_bundled_footage(footage):
    import re

    import cv2

    r, out = footage
    assert r.returncode == 0, r.stderr
    text = r.stdout
    assert text.splitlines()[0].startswith("gesturekit demo - bundled real footage: asl_hand.25fps.mp4 (620x1080, "
                                           "325 frames, 25 fps)")
    assert "The real tracker (full model)" in text
    # events are printed as they happen: the clip opens with the ASL letter A, a fist
    rows = [ln for ln in text.splitlines() if re.match(r"^\s+\d+\.\d\ds \| ", ln)]
    assert rows and rows[0].split("|")[1].split()[:2] == ["start", "fist"]
    assert {"start", "end"} <= {ln.split("|")[1].split()[0] for ln in rows}
    m = re.search(r"^325 frames in [\d.]+ s \((\d+) frames/s\)\. Hands found in (\d+)/325 frames \(1 track\)\.$",
                  text, re.M)
    assert m, text[-800:]
    assert int(m.group(2)) >= 320
    assert re.search(r"^Gestures seen: .*\bfist x\d+", text, re.M)  # A is a fist; the other letters vary
    assert f"Annotated video: {out} (325 frames, 25 fps)" in text
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 325 and cap.get(cv2.CAP_PROP_FPS) == 25.0


def test_demo_footage_runs_the_asl_classifier_when_installed(footage):
    from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager

    r, _ = footage
    has_asl = "asl" in collect_factories(get_plugin_manager(), "classifiers")
    assert ("with the ASL fingerspelling classifier" in r.stdout) == has_asl
    if has_asl:
        assert "ASL letters:" in r.stdout or "Spelled:" in r.stdout, r.stdout[-800:]


def test_bundled_footage_is_the_shared_clip_with_its_licence(data):
    assert footage_path().read_bytes() == data("tracking/asl_hand.25fps.mp4").read_bytes()
    licence = footage_path().parent / "LICENSE.tfjs-models-Apache-2.0.txt"
    assert "Apache License" in licence.read_text()


def test_demo_shows_asl_letters_and_the_spelled_word(footage):
    """The shipped ASL classifier runs in the demo: letter events, the word stream, the summary."""
    import re

    r, _ = footage
    text = r.stdout
    assert "(with the ASL fingerspelling classifier)" in text
    rows = [ln.split("|")[1].split() for ln in text.splitlines() if re.match(r"^\s+\d+\.\d\ds \| ", ln)]
    letters = {row[1][4:] for row in rows if re.fullmatch(r"asl_[A-Z]", row[1])}
    assert letters and letters <= set("ABCDEFGHIKLMNOPQRSTUVWXY"), letters  # no J or Z (motion letters)
    words = [row[3].strip('",') for row in rows if row[1] == "asl_word" and row[0] in ("start", "update")]
    m = re.search(r"^Spelled: (.+)$", text, re.M)
    assert m and m.group(1).split(" -> ") == words, (m, words)
    for before, after in zip(words, words[1:], strict=False):  # a word grows by one letter, or a new one starts
        assert after[:-1] == before or len(after) == 1, (before, after)
    assert set("".join(words)) <= letters
