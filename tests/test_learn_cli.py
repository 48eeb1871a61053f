"""``gesturekit import / train / eval`` on small real data from the shared data folder."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.shared_data import data_file

HAGRID_TO_LIBRARY = "call=call,dislike=thumbs_down,fist=fist,like=thumbs_up,palm=open_palm,peace=victory,rock=rock"


def gk(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gesturekit", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def ok(r: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert r.returncode == 0, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r


def strict_json(text: str) -> dict:
    def bad(c):
        raise ValueError(f"non-strict JSON constant {c}")

    return json.loads(text, parse_constant=bad)


@pytest.fixture(scope="module")
def kaz(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "kaz"
    r = ok(gk("import", "keypoint-csv", data_file("landmarks/kazuhito00/keypoint.csv"),
              data_file("landmarks/kinivi_ok/keypoint_OK_class_rows.csv"), "--out", out, "--no-progress"))
    assert "4787 samples added" in r.stdout + r.stderr
    return out


@pytest.fixture(scope="module")
def kaz_model(kaz) -> Path:
    m = kaz.parent / "kaz.gkm"
    ok(gk("train", kaz, "--out", m, "--estimator", "logreg", "--augment", "none", "--no-progress"))
    assert m.is_file()
    return m


def _check_scores(rep: dict, classes: set[str]) -> None:
    assert set(rep["per_class"]) >= classes
    for c, v in rep["per_class"].items():
        for k in ("precision", "recall", "f1"):
            assert 0.0 <= v[k] <= 1.0, (c, k, v)
    assert 0.0 <= rep["accuracy"] <= 1.0


def test_import_is_resumable(kaz):
    r = ok(gk("import", "keypoint-csv", data_file("landmarks/kazuhito00/keypoint.csv"), "--out", kaz,
              "--no-progress"))
    assert "0 samples added" in r.stdout + r.stderr


def test_train_and_eval_json(kaz, kaz_model):
    rep = strict_json(ok(gk("eval", kaz, "--model", kaz_model, "--json")).stdout)
    assert rep["mode"] == "model" and rep["samples"] == 4787
    _check_scores(rep, {"Close", "OK", "Open", "Pointer"})
    assert rep["accuracy"] > 0.9  # training samples: a sanity check, not a figure
    assert rep["model"]["classes"] == ["Close", "OK", "Open", "Pointer"]


def test_eval_plot_writes_a_png(kaz, kaz_model, tmp_path):
    png = tmp_path / "cm.png"
    ok(gk("eval", kaz, "--model", kaz_model, "--plot", png))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image as mpimg

    img = mpimg.imread(png)
    assert img.shape[0] > 100 and img.shape[1] > 100
    assert float(np.std(img[..., :3])) > 0.05  # not blank


def test_cv_by_group(kaz):
    rep = strict_json(ok(gk("eval", kaz, "--cv", "groups", "--folds", "3", "--estimator", "logreg",
                            "--augment", "none", "--json", "--no-progress")).stdout)
    assert rep["mode"] == "cv"
    _check_scores(rep, {"Close", "OK", "Open", "Pointer"})
    g = rep["by_group"]
    assert g["groups"] == 50
    assert 0.0 <= g["min_group_accuracy"] <= g["mean_group_accuracy"] <= 1.0
    assert rep["accuracy"] >= 0.9


@pytest.fixture(scope="module")
def hagrid_few(tmp_path_factory) -> Path:
    """A few HaGRID test/val photos, imported through the real tracker (image-csv)."""
    root = data_file("gestures/hagrid_sample")
    want = {"call", "dislike", "fist", "like", "palm", "peace", "rock"}
    picked: dict[str, int] = {}
    rows = []
    with open(root / "labels.csv", newline="") as f:
        for r in csv.DictReader(f):
            if r["split"] in ("test", "val") and r["label"] in want and picked.get(r["label"], 0) < 3:
                picked[r["label"]] = picked.get(r["label"], 0) + 1
                rows.append({"file": str(root / r["file"]), "label": r["label"], "group": r["user_id"]})
    folder = tmp_path_factory.mktemp("hg")
    listing = folder / "few.csv"
    with open(listing, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["file", "label", "group"])
        w.writeheader()
        w.writerows(rows)
    out = folder / "ds"
    ok(gk("import", "image-csv", listing, "--out", out, "--no-progress", timeout=300))
    return out


def test_eval_rules_on_the_same_samples(hagrid_few, tmp_path):
    rules = strict_json(ok(gk("eval", hagrid_few, "--rules", "--map", HAGRID_TO_LIBRARY, "--json")).stdout)
    assert rules["mode"] == "rules" and rules["samples"] >= 15
    _check_scores(rules, {"call", "thumbs_down", "fist", "thumbs_up", "open_palm", "victory", "rock"})
    assert rules["accuracy"] >= 0.5
    # the shipped learned model on the very same samples (--map onto its classes is not needed:
    # the HaGRID model speaks HaGRID's labels)
    learned = strict_json(ok(gk("eval", hagrid_few, "--model", "hagrid", "--json")).stdout)
    assert learned["samples"] == rules["samples"]
    assert learned["accuracy"] >= 0.6
