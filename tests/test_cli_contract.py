"""The CLI contract other issues and external checks rely on: detect --json, run, errors."""

from __future__ import annotations

import json

import numpy as np

from gesturekit import Frame
from gesturekit.sources import open_source
from gesturekit.sources.recording import FrameWriter, ReplaySource
from gesturekit.tracking import Tracker, TrackerOptions


def test_detect_json_shape(cli, data):
    r = cli("detect", data("tracking/hands.jpg"), data("tracking/thumbs-up.png"), "--json")
    assert r.returncode == 0, r.stderr
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["image"].rsplit("/", 1)[-1] for o in lines] == ["hands.jpg", "thumbs-up.png"]
    hands_jpg, thumbs = lines
    assert (hands_jpg["width"], hands_jpg["height"]) == (720, 382)
    assert len(hands_jpg["hands"]) == 2 and len(thumbs["hands"]) == 1
    for hand in hands_jpg["hands"] + thumbs["hands"]:
        assert set(hand) == {"id", "handedness", "handedness_score", "score", "keypoints", "keypoints3d"}
        assert hand["handedness"] in ("left", "right")
        assert np.array(hand["keypoints"]).shape == (21, 2)
        assert np.array(hand["keypoints3d"]).shape == (21, 3)
        assert 0.5 < hand["score"] <= 1.0
    assert isinstance(hands_jpg["gestures"], list)
    assert len({h["id"] for h in hands_jpg["hands"]}) == 2


def test_run_writes_frames_jsonl(cli, data, tmp_path):
    out = tmp_path / "frames.jsonl"
    r = cli("run", "--source", data("tracking/asl_hand.25fps.mp4"), "--model", "lite", "--max-frames", "12",
            "--frames-jsonl", out)
    assert r.returncode == 0, r.stderr
    frames = [json.loads(line) for line in out.read_text().splitlines()]
    assert [f["index"] for f in frames] == list(range(12))
    assert frames[5]["t"] == 0.2  # 25 fps media time
    assert all(len(f["hands"]) == 1 for f in frames)
    assert set(frames[0]["hands"][0]) >= {"id", "handedness", "keypoints", "keypoints3d", "score"}
    # stdout holds only GestureEvents: the clip opens with the ASL letter A, a fist
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(e["gesture"], e["phase"]) for e in events] == [("fist", "start"), ("fist", "end")]
    assert [e["seq"] for e in events] == [0, 1]
    assert all(0 <= e["frame"] < 12 and e["hands"][0]["id"] == frames[0]["hands"][0]["id"] for e in events)


def test_record_then_replay_gives_the_same_frames(cli, data, tmp_path):
    rec, a, b = tmp_path / "rec.jsonl", tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    r = cli("run", "--source", data("tracking/asl_hand.25fps.mp4"), "--model", "lite", "--max-frames", "30",
            "--record-landmarks", rec, "--frames-jsonl", a)
    assert r.returncode == 0, r.stderr
    r = cli("run", "--source", rec, "--frames-jsonl", b)
    assert r.returncode == 0, r.stderr
    assert a.read_text() == b.read_text()
    original = [json.loads(line) for line in a.read_text().splitlines()]
    replayed = ReplaySource(str(rec)).frames
    assert len(replayed) == 30
    for o, f in zip(original, replayed, strict=False):
        np.testing.assert_allclose(f.hands[0].keypoints, o["hands"][0]["keypoints"], atol=1e-6)
        np.testing.assert_allclose(f.hands[0].keypoints3d, o["hands"][0]["keypoints3d"], atol=1e-6)


def test_recording_round_trip_is_exact(data, tmp_path):
    frames: list[Frame] = []
    with Tracker(TrackerOptions(model="lite")) as tracker:
        for item in open_source(str(data("tracking/asl_hand.25fps.mp4"))):
            frames.append(tracker.process(item.image, item.t, item.index, "clip"))
            if len(frames) == 10:
                break
    path = tmp_path / "rec.jsonl"
    with FrameWriter(str(path)) as w:
        for f in frames:
            w.write(f)
    replayed = ReplaySource(str(path)).frames
    assert replayed == frames
    assert all(np.array_equal(a.hands[0].keypoints, b.hands[0].keypoints)
               for a, b in zip(frames, replayed, strict=True))


# --- errors a user causes: exit code 2, one line on stderr, no traceback -----------------------------------


def _one_line_error(r, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_missing_file(cli, tmp_path):
    _one_line_error(cli("detect", tmp_path / "nope.jpg"), "file not found", "nope.jpg")
    _one_line_error(cli("run", "--source", tmp_path / "nope.mp4"), "file not found", "nope.mp4")


def test_unreadable_file(cli, data, tmp_path):
    import os

    if os.geteuid() == 0:
        # root reads any regular file whatever its mode; this kernel file is write-only even for root
        locked = "/proc/sys/vm/drop_caches"
    else:
        locked = tmp_path / "locked.jpg"
        locked.write_bytes(data("tracking/hands.jpg").read_bytes())
        locked.chmod(0)
    _one_line_error(cli("detect", locked), "cannot read file", str(locked))
    _one_line_error(cli("run", "--source", locked), "cannot read file", str(locked))


def test_folder_without_images(cli, tmp_path):
    _one_line_error(cli("detect", tmp_path), "no images in directory")


def test_file_that_is_not_an_image_or_video(cli, tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("hello\n")
    _one_line_error(cli("run", "--source", txt), "not a readable image or video", "notes.txt")
    fake = tmp_path / "fake.png"
    fake.write_bytes(b"\x89PNG not really")
    _one_line_error(cli("detect", fake), "not a readable image", "fake.png")


def test_corrupt_video(cli, data, tmp_path):
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(data("tracking/asl_hand.25fps.mp4").read_bytes()[:2000])
    _one_line_error(cli("run", "--source", broken), "not a readable image or video", "broken.mp4")


def test_camera_that_does_not_open(cli):
    _one_line_error(cli("run", "--source", "63"), "camera:63", "could not be opened")


def test_unknown_model_name(cli, data):
    _one_line_error(cli("detect", data("tracking/hands.jpg"), "--model", "medium"), "unknown model", "medium")
    _one_line_error(cli("run", "--source", data("tracking/hands.jpg"), "--model", "big.tflite"), "unknown model")


def test_missing_task_file(cli, data, tmp_path):
    _one_line_error(cli("detect", data("tracking/hands.jpg"), "--model", tmp_path / "hand_landmarker.task"),
                    "model file not found")


def test_gpu_unavailable_is_a_clear_error_not_a_fallback(cli, data):
    r = cli("detect", data("tracking/hands.jpg"), "--device", "gpu", "--json")
    # On a machine with a working MediaPipe GPU delegate this succeeds; here (no GPU) it must not fall back.
    if r.returncode == 0:
        assert json.loads(r.stdout.splitlines()[0])["hands"]
    else:
        _one_line_error(r, "GPU", "--device cpu")
        assert r.stdout == ""


def test_broken_recording(cli, tmp_path):
    rec = tmp_path / "bad.jsonl"
    rec.write_text('{"index": 0, "t": 0, "width": 10, "height": 10, "hands": []}\n{"index": 1, oops\n')
    _one_line_error(cli("run", "--source", rec), "bad.jsonl:2", "not a gesturekit landmark recording")


def test_model_path_task_bundle(cli, data, tmp_path):
    """A hand_landmarker.task file (as newer mediapipe releases expect) is accepted as --model."""
    from gesturekit.tracking import model_bundle

    task = tmp_path / "hand_landmarker.task"
    task.write_bytes(model_bundle("full"))
    r = cli("detect", data("tracking/thumbs-up.png"), "--model", task, "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["hands"]) == 1
    not_zip = tmp_path / "broken.task"
    not_zip.write_bytes(b"not a zip")
    _one_line_error(cli("detect", data("tracking/thumbs-up.png"), "--model", not_zip), "not a MediaPipe .task")


def test_realtime_paces_files_at_their_frame_rate(data):
    import time

    from gesturekit.sources import open_source

    src = open_source(str(data("tracking/asl_hand.25fps.mp4")), realtime=True)
    start = time.monotonic()
    items = []
    for item in src:
        items.append(item)
        if len(items) == 26:
            break
    elapsed = time.monotonic() - start
    assert elapsed >= 0.95  # 25 frame intervals at 25 fps = 1 s (a lower bound: safe on a loaded machine)
    assert [i.t for i in items[:3]] == [0.0, 0.04, 0.08]


def test_detect_results_do_not_depend_on_the_other_images(cli, data):
    crops = [data(f"gestures/hagrid_chart/{n}") for n in ("08_ok.png", "10_palm.png", "02_fist.png", "04_like.png")]

    def gestures(files):
        r = cli("detect", *files, "--json")
        assert r.returncode == 0, r.stderr
        return {json.loads(line)["image"]: sorted(g["gesture"] for g in json.loads(line)["gestures"])
                for line in r.stdout.splitlines()}

    forward, backward = gestures(crops), gestures(crops[::-1])
    assert forward == backward
    assert forward[str(crops[0])] == ["ok"] or forward[str(crops[0])] == ["ok", "pinch"]
    assert forward[str(crops[1])] == ["open_palm"]


def test_run_on_images_emits_start_and_end_per_image(cli, data):
    r = cli("run", "--source", data("tracking/hands.jpg"))
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    assert [(e["gesture"], e["phase"]) for e in events] == [("open_palm", "start")] * 2 + [("open_palm", "end")] * 2
    assert {e["hands"][0]["id"] for e in events} == {1, 2}


def test_run_workers_and_max_pixels_flags(cli, data, tmp_path):
    from gesturekit.cli import build_parser
    from gesturekit.cli.common import settings_from_args
    from gesturekit.cli.run import source_overrides

    clip = str(data("tracking/asl_hand.25fps.mp4"))
    args = build_parser().parse_args(["run", "--source", clip, "--workers", "1", "--max-pixels", "5000000"])
    s = settings_from_args(args, source=source_overrides(args), parallel={"workers": args.workers})
    assert s.parallel.workers == 1 and s.source.max_pixels == 5_000_000
    assert build_parser().parse_args(["run", "--workers", "auto"]).workers == "auto"
    r = cli("run", "--source", clip, "--workers", "0")
    assert r.returncode == 2 and "must be 1 or more" in r.stderr
    # a frame larger than --max-pixels is one clear line, not a crash
    r = cli("run", "--source", data("tracking/hands.jpg"), "--max-pixels", "1000")
    err = r.stderr.strip()
    assert r.returncode == 2 and "\n" not in err and "pixels" in err, err
