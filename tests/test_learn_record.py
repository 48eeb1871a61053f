"""``gesturekit record``: labelled samples into a dataset, with the real tracker on shared data."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from shared_data import data_file

from gesturekit.cli import main
from gesturekit.learn.dataset import SAMPLES, iter_samples, processed_sources, read_dataset

VIDEO = "tracking/asl_hand.25fps.mp4"
DIGITS = "gestures/sign_digits/images"


def _digit_folder(tmp_path, per=2, digits=("3", "5")):
    """A folder of symlinks ``<digit>/<file>`` to a few sign-digit photos."""
    root = tmp_path / "digits"
    for d in digits:
        (root / d).mkdir(parents=True)
        for f in sorted(data_file(f"{DIGITS}/{d}").iterdir())[:per]:
            (root / d / f.name).symlink_to(f)
    return root


@pytest.fixture(scope="module")
def video_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("rec") / "video"
    rc = main(["record", "--label", "A", "--group", "signer1", "--source", str(data_file(VIDEO)),
               "--every", "25", "--out", str(out), "--no-progress"])
    assert rc == 0
    return out


def test_video_every_25(video_dataset, tmp_path, capsys):
    s = read_dataset(video_dataset)
    assert 10 <= len(s) <= 16  # ~13 s of video, one hand
    assert set(s.labels) == {"A"} and set(s.groups) == {"signer1"}
    assert all(f % 25 == 0 for f in s.frames)
    assert s.keypoints.shape[1:] == (21, 2) and np.isfinite(s.keypoints3d).all()
    assert tuple(s.sizes[0]) == (620, 1080)
    # the same keypoints as a plain `gesturekit run` on the same frames
    frames = tmp_path / "frames.jsonl"
    assert main(["run", "--source", str(data_file(VIDEO)), "--frames-jsonl", str(frames)]) == 0
    capsys.readouterr()
    ran = {}
    for line in frames.read_text().splitlines():
        d = json.loads(line)
        if d["index"] % 25 == 0 and d["hands"]:
            ran[d["index"]] = np.array(d["hands"][0]["keypoints"])
    assert len(ran) >= 10
    by_frame = {int(f): k for f, k in zip(s.frames, s.keypoints, strict=True)}
    for idx, kp in ran.items():
        np.testing.assert_allclose(by_frame[idx], kp, atol=1e-3)


def test_torn_last_line_tolerated(video_dataset, tmp_path):
    copy = tmp_path / "torn"
    copy.mkdir()
    text = (video_dataset / SAMPLES).read_text()
    n = len(text.splitlines())
    (copy / SAMPLES).write_text(text + text.splitlines()[0][:120])  # a write cut short by a crash
    assert len(list(iter_samples(copy))) == n


def test_image_folder_by_subfolder_and_resume(tmp_path, capsys):
    root = _digit_folder(tmp_path)
    out = tmp_path / "ds"
    args = ["record", "--label-from", "folder", "--source", str(root), "--out", str(out), "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "samples added" in err and "frames without a hand" in err
    s = read_dataset(out)
    assert set(s.labels) <= {"3", "5"} and len(s) >= 3
    assert all(lab == os.path.basename(os.path.dirname(src)) for lab, src in zip(s.labels, s.sources, strict=True))
    assert len(processed_sources(out)) == 4
    # a second run resumes: every file is already done, nothing is added twice
    assert main(args) == 0
    assert "4 already done" in capsys.readouterr().err
    assert len(read_dataset(out)) == len(s)


def test_labels_csv_and_unreadable_file(tmp_path, capsys):
    root = _digit_folder(tmp_path, per=1)
    (root / "5" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    csv = tmp_path / "labels.csv"
    files = sorted(p.relative_to(root) for p in root.rglob("*.*"))
    csv.write_text("file,label,group\n" + "".join(f"{f},digit{f.parent},p{f.parent}\n" for f in files))
    out = tmp_path / "ds"
    assert main(["record", "--labels-csv", str(csv), "--source", str(root), "--out", str(out),
                 "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "skipped" in err and "broken.jpg" in err and "1 unreadable" in err
    s = read_dataset(out)
    assert len(s) >= 1 and set(s.labels) <= {"digit3", "digit5"}
    assert all(g == "p" + lab[-1] for lab, g in zip(s.labels, s.groups, strict=True))
    lines = [json.loads(x) for x in (out / "processed.jsonl").read_text().splitlines()]
    assert [x["error"] is not None for x in lines].count(True) == 1


@pytest.mark.parametrize(("extra", "message"), [
    (["--source", "VIDEO", "--out", "OUT"], "needs --label"),
    (["--label", "A", "--source", "/nonexistent/video.mp4", "--out", "OUT"], "source not found"),
    (["--label", "A", "--out", "OUT"], "needs --source"),
    (["--label", "A", "--source", "VIDEO", "--out", "/proc/gesturekit-ds"], "cannot write"),
])
def test_bad_arguments_one_line_exit_2(tmp_path, capsys, extra, message):
    extra = [str(data_file(VIDEO)) if a == "VIDEO" else str(tmp_path / "o") if a == "OUT" else a for a in extra]
    assert main(["record", *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err, err


def test_ctrl_c_keeps_what_was_saved(tmp_path, capsys, monkeypatch):
    from gesturekit.chain.builder import Chain

    root = _digit_folder(tmp_path)
    real, calls = Chain.step, []

    def step(self, item, pipeline=None):
        calls.append(item)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(self, item, pipeline)

    monkeypatch.setattr(Chain, "step", step)
    out = tmp_path / "ds"
    assert main(["record", "--label-from", "folder", "--source", str(root), "--out", str(out),
                 "--no-progress"]) == 130
    err = capsys.readouterr().err
    n = len(read_dataset(out))
    assert f"interrupted; {n} samples saved" in err
    assert len(processed_sources(out)) == 2  # the interrupted file is not marked done: it is redone
