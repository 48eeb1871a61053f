"""``type: learned`` through the chain: the shipped HaGRID model on HaGRID test/val photos
(people the model never saw), via a config section and via ``gesturekit detect``."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from gesturekit.chain.builder import Chain
from gesturekit.settings import Settings
from tests.shared_data import data_file

CLASSES = ("call", "dislike", "fist", "like", "ok", "palm", "peace", "rock", "two_up", "stop")


@pytest.fixture(scope="module")
def photos(tmp_path_factory) -> dict[str, str]:
    """Two test/val photos of each of a few classes (one gesture box each), linked into a folder."""
    root = data_file("gestures/hagrid_sample")
    folder = tmp_path_factory.mktemp("hagrid_photos")
    picked: dict[str, str] = {}
    count: dict[str, int] = defaultdict(int)
    with open(root / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["split"] in ("test", "val") and r["label"] in CLASSES and count[r["label"]] < 2 \
                    and r["labels"] == r["label"]:
                count[r["label"]] += 1
                link = folder / f"{r['label']}_{count[r['label']]}.jpg"
                link.symlink_to(root / r["file"])
                picked[link.name] = r["label"]
    assert len(picked) == 2 * len(CLASSES)
    return {"folder": str(folder), **picked}


def test_learned_section_through_the_chain(photos):
    folder = photos.pop("folder")
    try:
        settings = Settings.model_validate({"source": folder,
                                            "classifiers": {"h": {"type": "learned", "model": "hagrid",
                                                                  "prefix": "hg_"}}})
        events: list[dict] = []
        frames = 0
        with Chain(settings) as chain:
            for result in chain.run():
                frames += not getattr(result, "tail", False)
                events.extend(e.to_dict() for e in result.events)
    finally:
        photos["folder"] = folder
    assert frames == len(photos) - 1
    starts = [e for e in events if e["phase"] == "start"]
    ends = [e for e in events if e["phase"] == "end"]
    assert starts and len(starts) == len(ends)
    # the config's classifiers sit beside the built-in rules: keep the learned ones
    starts = [e for e in starts if e["gesture"].startswith("hg_")]
    assert starts and len(starts) == len([e for e in ends if e["gesture"].startswith("hg_")])
    # the frame index of each start tells which photo it came from (the folder is read sorted)
    names = sorted(k for k in photos if k != "folder")
    got: dict[str, set[str]] = defaultdict(set)
    for e in starts:
        got[names[e["frame"]]].add(e["gesture"].removeprefix("hg_"))
    right = sum(photos[n] in got[n] for n in names)
    assert right >= 0.8 * len(names), dict(got)


def test_detect_with_a_learned_config(photos, tmp_path):
    cfg = tmp_path / "gk.yaml"
    cfg.write_text("classifiers:\n  h:\n    type: learned\n    model: hagrid\n")
    names = sorted(k for k in photos if k != "folder")
    files = [str(Path(photos["folder"]) / n) for n in names]
    r = subprocess.run([sys.executable, "-m", "gesturekit", "detect", "--config", str(cfg), "--classifier", "h",
                        "--json", *files],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
    assert len(lines) == len(files)
    right = 0
    for n, d in zip(names, lines, strict=True):
        assert Path(d["image"]).name == n
        got = {g["gesture"] for g in d["gestures"]}
        assert not got & {"thumbs_up", "thumbs_down", "open_palm", "victory"}, got  # no rules ran
        right += photos[n] in got
    assert right >= 0.8 * len(files)
