"""Batch extraction (gesturekit extract): real photos and a real clip, tracked by real MediaPipe,
into the dataset format; 1 or 2 workers, local processes or Ray, give the same dataset; a bad file
is reported and skipped; a second run resumes (files already done are skipped)."""

from __future__ import annotations

import json
import os

import pytest
from shared_data import data_file

from gesturekit import InputError
from gesturekit.learn import read_dataset
from gesturekit.learn.extract import extract, find_inputs

HAGRID = "gestures/hagrid_sample/images"


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """A folder per label (links to the shared photos), a short clip and one broken file."""
    root = tmp_path_factory.mktemp("inputs")
    for label in ("like", "palm"):
        d = root / label
        d.mkdir()
        for f in sorted(os.listdir(data_file(f"{HAGRID}/{label}")))[:2]:
            (d / f).symlink_to(data_file(f"{HAGRID}/{label}/{f}"))
    (root / "clips").mkdir()
    (root / "clips" / "fast_up_down.mp4").symlink_to(data_file("dynamic/fast_up_down.mp4"))
    (root / "palm" / "broken.jpg").write_bytes(b"not an image at all")
    return root


def lines(ds, name):
    return [json.loads(x) for x in (ds / name).read_text().splitlines()]


def run(inputs, out, **kw):
    return extract([inputs], out, model="lite", every=4, progress=False, **kw)


@pytest.fixture(scope="module")
def one_worker(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("ds") / "one"
    return out, run(inputs, out, workers=1)


def test_extract_writes_labelled_samples_and_skips_a_bad_file(inputs, one_worker, capsys):
    out, res = one_worker
    assert (res.files, res.done, res.failed) == (6, 6, 1)
    data = read_dataset(out)
    assert len(data) == res.samples > 10
    assert set(data.labels) == {"like", "palm", "clips"}
    assert data.keypoints.shape[1:] == (21, 2) and (data.sizes > 0).all()
    clip = data.sources == str(inputs / "clips" / "fast_up_down.mp4")
    assert clip.sum() > 5 and (data.frames[clip] % 4 == 0).all()  # every 4th frame of the video
    processed = {d["source"]: d for d in lines(out, "processed.jsonl")}
    assert processed[str(inputs / "palm" / "broken.jpg")]["error"]
    assert processed[str(inputs / "palm" / "broken.jpg")]["samples"] == 0


def test_two_local_workers_give_the_same_dataset(inputs, one_worker, tmp_path):
    out, _ = one_worker
    res = run(inputs, tmp_path / "two", workers=2)
    assert res.failed == 1
    assert lines(tmp_path / "two", "samples.jsonl") == lines(out, "samples.jsonl")
    assert lines(tmp_path / "two", "processed.jsonl") == lines(out, "processed.jsonl")


def test_extract_resumes_after_an_interruption(inputs, one_worker, tmp_path):
    out, _ = one_worker
    ds = tmp_path / "resumed"
    first = extract([inputs / "like"], ds, model="lite", every=4, progress=False, workers=1)
    assert first.done == 2
    res = run(inputs, ds, workers=1)
    assert (res.skipped, res.done) == (2, 4)
    key = lambda d: (d["source"], d["frame"], d["keypoints"])  # noqa: E731
    assert sorted(map(key, lines(ds, "samples.jsonl"))) == sorted(map(key, lines(out, "samples.jsonl")))
    again = run(inputs, ds, workers=1)
    assert (again.skipped, again.done, again.samples) == (6, 0, 0)


def test_ray_backend_gives_the_same_dataset(inputs, one_worker, tmp_path):
    ray = pytest.importorskip("ray", reason="the ray extra (pip install 'gesturekit[ray]') is part of the test extra")
    out, _ = one_worker
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        res = run(inputs, tmp_path / "ray", workers=2, backend="ray")
    finally:
        ray.shutdown()
    assert res.failed == 1
    assert lines(tmp_path / "ray", "samples.jsonl") == lines(out, "samples.jsonl")


def test_bad_arguments_are_one_line(tmp_path, monkeypatch, cli):
    with pytest.raises(InputError, match="input not found"):
        find_inputs([tmp_path / "nope"])
    monkeypatch.setitem(__import__("sys").modules, "ray", None)
    with pytest.raises(InputError, match=r"pip install 'gesturekit\[ray\]'"):
        extract([tmp_path], tmp_path / "ds", backend="ray", progress=False)
    r = cli("extract", tmp_path / "missing", "--out", tmp_path / "ds")
    assert r.returncode == 2 and r.stderr.strip().splitlines() == [f"gesturekit: error: input not found: "
                                                                   f"{tmp_path / 'missing'}"]
