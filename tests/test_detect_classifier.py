"""``gesturekit detect --classifier NAME``: choosing which classifiers run, on real ASL photos."""

from __future__ import annotations

import csv
import json

import pytest
from shared_data import data_file

from gesturekit.cli import main

ROOT = "asl/roboflow_valid"


@pytest.fixture(scope="module")
def l_photo():
    with open(data_file(f"{ROOT}/labels.csv"), newline="") as f:
        row = next(r for r in csv.DictReader(f) if r["letter_from_filename"] == "L")
    return str(data_file(f"{ROOT}/{row['file']}"))


def _detect(capsys, *args):
    assert main(["detect", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_asl_gives_a_letter_per_hand_with_its_score(l_photo, capsys):
    out = _detect(capsys, l_photo, "--classifier", "asl")
    assert out["hands"]
    for hand in out["hands"]:
        top = hand["top"]
        assert top["gesture"].startswith("asl_") and 0 < top["score"] <= 1
        mine = [g for g in out["gestures"] if hand["id"] in g["hands"]]
        assert mine and all(g["gesture"].startswith("asl_") for g in mine)
    assert any(h["top"]["gesture"] == "asl_L" for h in out["hands"])


def test_rules_keeps_todays_output(l_photo, capsys):
    plain = _detect(capsys, l_photo)
    rules = _detect(capsys, l_photo, "--classifier", "rules")
    for h in rules["hands"]:
        h.pop("top")
    assert rules == plain
    assert not any(g["gesture"].startswith("asl_") for g in rules["gestures"])


def test_unknown_classifier_one_line_listing_the_installed(l_photo, capsys):
    assert main(["detect", l_photo, "--classifier", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "unknown classifier 'nope'" in err and "asl" in err and "rules" in err
