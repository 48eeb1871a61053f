"""The sample third-party plugin in examples/ is installed like any outside package and found.

The plugin is installed with pip into a temporary folder (not into the venv) and put on
PYTHONPATH, so gesturekit discovers it through the ``gesturekit`` entry-point group exactly as
it would find a package installed from PyPI. Building it needs setuptools>=61 and wheel in
the test environment (no network: ``--no-build-isolation --no-index``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from shared_data import REPO, data_file

EXAMPLE = REPO / "examples" / "gesturekit-example-plugin"
EXAMPLE_MODULE = EXAMPLE / "gesturekit_example.py"
PLUGIN_GESTURES = {"hand_up", "two_hands"}
HOOKS = ["gesturekit_classify", "gesturekit_configure", "gesturekit_frame", "gesturekit_register_sinks",
         "gesturekit_shutdown"]


def gesturekit(*args: str, pythonpath: Path | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the real ``gesturekit`` command, optionally with extra folders on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "GESTUREKIT_TRACE_PLUGINS")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run([sys.executable, "-m", "gesturekit", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=REPO, env=env)


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """A folder holding the installed example plugin (module + dist-info with its entry point)."""
    tmp = tmp_path_factory.mktemp("example-plugin")
    src = tmp / "src"  # build from a copy: setuptools writes build/ and *.egg-info next to the sources
    shutil.copytree(EXAMPLE, src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    target = tmp / "site"
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                           "--quiet", "--target", str(target), str(src)], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, (
        "pip could not build and install the example plugin; the test environment needs setuptools>=61 and "
        f"wheel (offline build):\n{proc.stdout}\n{proc.stderr}")
    return target


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    """A real landmark recording: 10 frames of the ASL clip tracked with the lite model."""
    path = tmp_path_factory.mktemp("rec") / "asl10.jsonl"
    proc = gesturekit("run", "--source", data_file("tracking/asl_hand.25fps.mp4"), "--model", "lite",
                      "--max-frames", "10", "--record-landmarks", path)
    assert proc.returncode == 0, proc.stderr
    return path


def test_installed_package_declares_the_entry_point(site):
    from importlib.metadata import distributions

    dists = [d for d in distributions(path=[str(site)]) if d.metadata["Name"] == "gesturekit-example-plugin"]
    assert len(dists) == 1
    eps = [(ep.group, ep.name, ep.value) for ep in dists[0].entry_points]
    assert eps == [("gesturekit", "example", "gesturekit_example")]


def test_plugins_list_finds_the_installed_plugin(site):
    proc = gesturekit("plugins", "list", "--json", pythonpath=site)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    example = [p for p in listing["plugins"] if p["name"] == "example"]
    assert example == [{"name": "example", "origin": "entry point (gesturekit-example-plugin)", "hooks": HOOKS,
                        "version": "0.1.0"}]
    assert "example_csv" in listing["factories"]["sinks"]

    text = gesturekit("plugins", "list", pythonpath=site)
    assert text.returncode == 0
    line = next(ln for ln in text.stdout.splitlines() if ln.startswith("example "))
    assert "entry point (gesturekit-example-plugin) 0.1.0" in line and "gesturekit_classify" in line


def test_not_listed_without_the_install():
    proc = gesturekit("plugins", "list", "--json")
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    assert "example" not in [p["name"] for p in listing["plugins"]]
    assert "example_csv" not in listing["factories"]["sinks"]


def test_detect_reports_hand_up_and_two_hands(site, data):
    # hands.jpg: the left hand in the picture points up, the right one points down.
    proc = gesturekit("detect", data("tracking/hands.jpg"), "--model", "lite", "--json", pythonpath=site)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    hands = {h["id"]: np.array(h["keypoints"]) for h in out["hands"]}
    assert len(hands) == 2
    up = [i for i, kp in hands.items() if kp[9, 1] < kp[0, 1]]  # middle knuckle above the wrist
    assert len(up) == 1 and hands[up[0]][0, 0] < out["width"] / 2
    mine = [g for g in out["gestures"] if g["gesture"] in PLUGIN_GESTURES]
    assert [g["gesture"] for g in mine] == ["hand_up", "two_hands"]
    assert mine[0]["hands"] == up
    assert mine[1]["hands"] == sorted(hands)
    assert 0.5 < mine[1]["score"] <= 1.0


def test_detect_without_the_plugin_reports_none_of_its_gestures(data):
    proc = gesturekit("detect", data("tracking/hands.jpg"), "--model", "lite", "--json")
    assert proc.returncode == 0, proc.stderr
    assert PLUGIN_GESTURES.isdisjoint(g["gesture"] for g in json.loads(proc.stdout)["gestures"])


def _pointing_up(hand: dict, max_angle: float = 30.0) -> bool:
    kp = np.array(hand["keypoints"])
    dx, dy = kp[9] - kp[0]
    return np.degrees(np.arctan2(abs(dx), -dy)) <= max_angle


def test_run_on_a_recording_with_the_installed_plugin(site, recording):
    frames = [json.loads(line) for line in recording.read_text().splitlines()[1:]]
    assert len(frames) == 10
    expected_up = sum(any(_pointing_up(h) for h in f["hands"]) for f in frames)
    assert expected_up >= 8  # the signer's hand points up through the first frames

    proc = gesturekit("-v", "run", "--source", recording, pythonpath=site)
    assert proc.returncode == 0, proc.stderr
    # The plugin's gesturekit_frame hook counted every classifier's detections (its own and the
    # built-in rules'); its gesturekit_shutdown hook logged the counts.
    summary = re.search(r"INFO gesturekit_example: example plugin saw (\d+) frames: (.*)$", proc.stderr, re.M)
    assert summary and summary.group(1) == "10"
    counts = {name: int(n) for name, n in re.findall(r"(\w+) in (\d+)", summary.group(2))}
    assert counts["hand_up"] == expected_up and "two_hands" not in counts
    events = [json.loads(line) for line in proc.stdout.splitlines()]
    mine = [e for e in events if e["gesture"] in PLUGIN_GESTURES]
    assert [e["phase"] for e in mine][:1] == ["start"] and mine[-1]["phase"] == "end"
    assert {e["gesture"] for e in mine} == {"hand_up"}
    assert all(e["hands"] == [{"id": 1, "handedness": frames[0]["hands"][0]["handedness"]}] for e in mine)


def test_plugin_path_route(data):
    proc = gesturekit("plugins", "list", "--json", "--plugin-path", EXAMPLE_MODULE)
    assert proc.returncode == 0, proc.stderr
    listing = json.loads(proc.stdout)
    mine = [p for p in listing["plugins"] if p["name"] == "gesturekit_example"]
    assert mine == [{"name": "gesturekit_example", "origin": f"path {EXAMPLE_MODULE}", "hooks": HOOKS,
                     "version": ""}]

    folder = gesturekit("detect", data("tracking/thumbs-up.png"), "--model", "lite", "--json",
                        "--plugin-path", EXAMPLE)  # a folder: every .py file in it
    assert folder.returncode == 0, folder.stderr
    gestures = [g["gesture"] for g in json.loads(folder.stdout)["gestures"]]
    assert [g for g in gestures if g in PLUGIN_GESTURES] == ["hand_up"]


def test_same_plugin_installed_and_on_a_path_is_a_name_clash(site):
    proc = gesturekit("plugins", "list", "--plugin-path", EXAMPLE_MODULE, pythonpath=site)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "'example_csv' is registered twice" in proc.stderr


@pytest.mark.parametrize("content, message", [
    (None, "plugin path not found: "),
    ("import gesturekit_no_such_module\n", "failed to import: ModuleNotFoundError: No module named "
                                           "'gesturekit_no_such_module'"),
    ("def broken(:\n", "failed to import: SyntaxError"),
    ("from gesturekit import hookimpl\n\n\n@hookimpl\ndef gesturekit_clasify(frame):\n    return []\n",
     "unknown hook 'gesturekit_clasify'"),
], ids=["missing", "import-error", "syntax-error", "misspelt-hook"])
def test_bad_plugin_path_is_one_line_and_exit_2(tmp_path, content, message):
    path = tmp_path / "myplugin.py"
    if content is not None:
        path.write_text(content)
    proc = gesturekit("plugins", "list", "--plugin-path", path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("gesturekit: error: ") and proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert message in proc.stderr


def test_configure_changes_the_threshold_and_csv_sink_writes_events(tmp_path, recording):
    """In-process, through the plugin-path route: configure, classify, and the example_csv sink."""
    import csv

    from gesturekit import ConfigError, Frame, GestureEvent
    from gesturekit.chain.pipeline import Pipeline
    from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager

    frames = [Frame.from_dict(json.loads(line)) for line in recording.read_text().splitlines()[1:]]
    angles = []
    pm = get_plugin_manager([str(EXAMPLE_MODULE)], entrypoints=False)
    with Pipeline(pm) as pipe:
        for frame in frames:
            angles += [d.values["angle"] for d in pipe.classify(frame) if d.gesture == "hand_up"]
        assert len(angles) >= 8 and all(0 <= a <= 30 for a in angles)
        # A threshold that keeps about half of them, half-way between two reported angles: they are
        # rounded to 0.1 degree, the plugin compares the unrounded angle.
        ranked = sorted(set(angles))
        lo = max(range(len(ranked) // 4, max(len(ranked) * 3 // 4, len(ranked) // 4 + 1)),
                 key=lambda i: ranked[i + 1] - ranked[i] if i + 1 < len(ranked) else -1)
        cut = (ranked[lo] + ranked[lo + 1]) / 2
        assert ranked[lo + 1] - ranked[lo] > 0.1
        pm.hook.gesturekit_configure(config={}, plugin_config={"example": {"max_angle": cut}})
        kept = [d for f in frames for d in pipe.classify(f) if d.gesture == "hand_up"]
        assert len(kept) == sum(a <= cut for a in angles) < len(angles)

    sink = collect_factories(pm, "sinks")["example_csv"]({"path": str(tmp_path / "events.csv")})
    events = [GestureEvent("hand_up", "start", t=0.12, seq=0, hands=({"id": 1, "handedness": "left"},), score=0.9,
                           source="cam", frame=3),
              GestureEvent("hand_up", "end", t=0.5, seq=1, hands=({"id": 1, "handedness": "left"},), frame=12)]
    sink.open()
    for ev in events:
        sink.send(ev)
    sink.close()
    with open(tmp_path / "events.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["gesture"], r["phase"], r["t"], r["hands"], r["frame"]) for r in rows] == [
        ("hand_up", "start", "0.12", "1:left", "3"), ("hand_up", "end", "0.5", "1:left", "12")]
    with pytest.raises(ConfigError, match="^path: the example_csv sink needs a 'path'$"):
        collect_factories(pm, "sinks")["example_csv"]({})
