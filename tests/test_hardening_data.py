"""Issue 8, the data side: strict values and JSON, landmark recordings, the pixel limit, images.

Real components only: recordings are written from the shared golden landmarks, images are real
files (the shared photos, or PNGs written here), and ``gesturekit run`` runs as a subprocess.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import struct
import time
import warnings
import zlib
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from peers import wait_for
from shared_data import REPO, data_file

from gesturekit import Detection, Frame, GestureEvent, Hand, InputError, SourceError
from gesturekit.sources import ImageSource, ThreadedReader, VideoFileSource, read_image
from gesturekit.sources.images import MAX_IMAGE_PIXELS, check_image, image_size
from gesturekit.sources.recording import FrameWriter, ReplaySource
from gesturekit.temporal import TemporalEngine, TemporalSpec

pytestmark = pytest.mark.timeout(120)

SCHEMA = json.loads((REPO / "docs" / "event.schema.json").read_text())


def _strict_loads(text: str):
    """json.loads that refuses NaN / Infinity (what a strict consumer such as a browser does)."""
    def refuse(name: str):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


def _golden_frames(n: int) -> list[Frame]:
    kp = json.loads(data_file("tracking/asl_hand.full.json").read_text())
    kp3 = json.loads(data_file("tracking/asl_hand_3d.full.json").read_text())
    return [Frame(i, i / 25, 620, 1080, "asl_hand.25fps.mp4",
                  (Hand(1, "right", 0.98, 0.97, np.array(kp[i])[:, :2], kp3[i]),)) for i in range(n)]


def _recording(path: Path, n: int = 12) -> list[str]:
    with FrameWriter(str(path)) as w:
        for fr in _golden_frames(n):
            w.write(fr)
    return path.read_text().splitlines()


# 1. values: refused where they enter, strict JSON where they leave --------------------------

@pytest.mark.parametrize("kwargs, field", [
    ({"gesture": 42}, "gesture"),
    ({"gesture": ""}, "gesture"),
    ({"gesture": "x", "score": float("nan")}, "score"),
    ({"gesture": "x", "score": 1e9}, "score"),
    ({"gesture": "x", "score": True}, "score"),
    ({"gesture": "x", "values": {"x": float("inf")}}, "values"),
    ({"gesture": "x", "values": {"x": "str"}}, "values"),
    ({"gesture": "x", "values": [1]}, "values"),
    ({"gesture": "x", "hands": ("a", None)}, "hands"),
    ({"gesture": "x", "hands": "12"}, "hands"),
    ({"gesture": "x", "hands": (1, 1)}, "hands"),
    ({"gesture": "x", "hands": (1, 2, 3, 4, 5)}, "hands"),
    ({"gesture": "x", "hands": (-1,)}, "hands"),
    ({"gesture": "x", "kind": "wave"}, "kind"),
])
def test_a_detection_with_bad_values_is_refused(kwargs, field):
    with pytest.raises(InputError, match=f"Detection.{field}") as ei:
        Detection(**kwargs)
    assert isinstance(ei.value, ValueError)


def test_a_good_detection_is_normalised():
    d = Detection("pinch", np.float32(0.5), [np.int64(2)], {"distance": np.float64(0.25)})
    assert (d.gesture, d.score, d.hands, d.values, d.kind) == ("pinch", 0.5, (2,), {"distance": 0.25}, "static")
    assert type(d.hands[0]) is int and type(d.values["distance"]) is float


@pytest.mark.parametrize("kwargs, field", [
    ({"score": float("nan")}, "score"),
    ({"score": -0.1}, "score"),
    ({"values": {"x": float("inf")}}, "values"),
    ({"t": float("nan")}, "t"),
    ({"gesture": 5}, "gesture"),
    ({"seq": -1}, "seq"),
    ({"frame": 1.5}, "frame"),
    ({"hands": ({"id": "a", "handedness": "left"},)}, "hands"),
    ({"hands": ({"id": 1, "handedness": "middle"},)}, "hands"),
    ({"hands": ("a",)}, "hands"),
])
def test_a_gesture_event_with_bad_values_is_refused(kwargs, field):
    base = {"gesture": "pinch", "phase": "update", "t": 1.0, "seq": 3}
    with pytest.raises(InputError, match=f"GestureEvent.{field}"):
        GestureEvent(**(base | kwargs))


def test_nan_and_inf_keypoints_are_refused_without_numpy_warnings():
    frame = _golden_frames(1)[0]
    hand = frame.hands[0]
    kp = hand.keypoints.copy()
    kp[4, 1] = np.inf
    kp3 = hand.keypoints3d.copy()
    kp3[8, 2] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a numpy RuntimeWarning would fail here
        with pytest.raises(InputError, match=r"Hand.keypoints must be finite.*keypoint 4 \(thumb_tip\).*inf"):
            Hand(1, "right", 0.9, 0.9, kp, hand.keypoints3d)
        with pytest.raises(InputError, match=r"Hand.keypoints3d must be finite.*keypoint 8 \(index_finger_tip\)"):
            Hand(1, "right", 0.9, 0.9, hand.keypoints, kp3)
        with pytest.raises(InputError, match="beyond"):  # would round to inf in to_dict
            Hand(1, "right", 0.9, 0.9, hand.keypoints + 1e300, hand.keypoints3d)
        with pytest.raises(InputError, match="Hand.score"):
            Hand(1, "right", 0.9, float("nan"), hand.keypoints, hand.keypoints3d)
        d = frame.to_dict()
        d["t"] = float("inf")
        with pytest.raises(InputError, match="Frame.t"):
            Frame.from_dict(d)
    # the good hand round-trips through strict JSON
    assert Frame.from_dict(_strict_loads(json.dumps(frame.to_dict(None), allow_nan=False))) == frame


def test_emitted_events_are_strict_json_and_match_the_schema():
    """The engine on a detection naming a track id the frame does not have (a plugin's mistake)
    emits ``handedness: unknown``; every event it emits validates against docs/event.schema.json."""
    hand = _golden_frames(1)[0].hands[0]
    eng = TemporalEngine(default=TemporalSpec(min_duration=0, hold_interval=0.1, release=0.1), source="t")
    events = []
    for i in range(6):
        frame = Frame(i, i / 25, 620, 1080, "t", (hand,))
        dets = [Detection("pinch", 0.8, (1,), {"distance": i / 10}), Detection("two", 1.0, (1, 7))] if i < 4 else []
        events += eng.update(frame, dets)
    events += eng.finish(0.3)
    assert {(e.gesture, e.phase) for e in events} >= {("pinch", "start"), ("pinch", "end"), ("two", "start")}
    two = next(e for e in events if e.gesture == "two")
    assert [h["handedness"] for h in two.hands] == ["right", "unknown"]
    for e in events:
        doc = _strict_loads(e.to_json())
        jsonschema.validate(doc, SCHEMA)
        assert GestureEvent.from_dict(doc) == e


# 2. landmark recordings ---------------------------------------------------------------------

def _poison(path: Path, line_no: int, token: str) -> None:
    lines = path.read_text().splitlines()
    d = json.loads(lines[line_no - 1])
    d["hands"][0]["keypoints"][4][0] = "@@"
    lines[line_no - 1] = json.dumps(d, separators=(",", ":")).replace('"@@"', token)
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_a_recording_with_non_finite_keypoints_is_refused_naming_file_and_line(tmp_path, token):
    rec = tmp_path / "rec.jsonl"
    _recording(rec)
    _poison(rec, 6, token)  # the header is line 1: frame 4
    with pytest.raises(SourceError) as ei:
        ReplaySource(str(rec))
    msg = str(ei.value)
    assert msg.startswith(f"{rec}:6: ") and "\n" not in msg
    assert ("finite" in msg) and (token if token != "1e999" else "inf") in msg


def test_run_refuses_an_inf_recording_in_one_line_without_warnings(cli, tmp_path):
    rec, frames = tmp_path / "rec.jsonl", tmp_path / "frames.jsonl"
    _recording(rec, 12)
    r = cli("run", "--source", rec, "--frames-jsonl", frames, timeout=120)  # the good recording replays
    assert r.returncode == 0, r.stderr
    out = [_strict_loads(x) for x in frames.read_text().splitlines()]
    assert [f["index"] for f in out] == list(range(12))
    assert out[3]["hands"][0]["keypoints"][0] == [round(v, 6) for v in _golden_frames(4)[3].hands[0].keypoints[0]]
    frames.unlink()
    _poison(rec, 3, "1e999")  # frame 1's thumb tip at x = inf
    r = cli("run", "--source", rec, "--frames-jsonl", frames, timeout=120)
    assert r.returncode == 2, (r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"{rec}:3:" in lines[0] and "finite" in lines[0], r.stderr
    assert "RuntimeWarning" not in r.stderr and "Traceback" not in r.stderr
    assert not frames.exists() or all(_strict_loads(x) for x in frames.read_text().splitlines())


def test_an_empty_recording_is_an_error(tmp_path, cli):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(SourceError, match="empty landmark recording"):
        ReplaySource(str(empty))
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n")
    with pytest.raises(SourceError, match="empty landmark recording"):
        ReplaySource(str(blank))
    r = cli("run", "--source", empty, timeout=120)
    assert r.returncode == 2 and "empty landmark recording" in r.stderr and str(empty) in r.stderr


def test_an_unknown_recording_format_is_an_error(tmp_path):
    rec = tmp_path / "rec.jsonl"
    lines = _recording(rec, 3)
    rec.write_text("\n".join([json.dumps({"format": "gesturekit.frames/9"})] + lines[1:]) + "\n")
    with pytest.raises(SourceError, match=r"rec.jsonl:1: unknown recording format 'gesturekit.frames/9'"):
        ReplaySource(str(rec))
    rec.write_text("\n".join(lines[1:]) + "\n")  # no header (--frames-jsonl output): still replayable
    assert [f.index for f in ReplaySource(str(rec)).frames] == [0, 1, 2]


# 3. pixel limit, lazy folders, truncated images ----------------------------------------------

def _png(path: Path, width: int, height: int) -> Path:
    """A real, valid grey PNG of any size, written row by row (small on disk, big when decoded)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    z, row, parts = zlib.compressobj(9), b"\0" * (width + 1), []
    for _ in range(height):
        parts.append(z.compress(row))
    parts.append(z.flush())
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))
    return path


def test_an_image_over_the_pixel_limit_is_refused_before_decoding(tmp_path, cli):
    big = _png(tmp_path / "big.png", 7000, 6000)  # 42 MP: 126 MB decoded, 40 kB on disk
    assert big.stat().st_size < 200_000 and MAX_IMAGE_PIXELS == 40_000_000
    t0 = time.monotonic()
    with pytest.raises(SourceError, match=r"big.png: 7000x6000 is 42.0 megapixels, over the limit of 40"):
        read_image(str(big))
    assert time.monotonic() - t0 < 0.5  # decoding it takes longer
    r = cli("detect", big, timeout=120)
    assert r.returncode == 2 and "7000x6000" in r.stderr and "over the limit" in r.stderr


def test_max_pixels_moves_the_limit(tmp_path, monkeypatch):
    img = _png(tmp_path / "mid.png", 1200, 1000)
    assert image_size(str(img)) == (1200, 1000)
    with pytest.raises(SourceError, match="1200x1000 is 1.2 megapixels, over the limit of 1 megapixels"):
        read_image(str(img), max_pixels=1_000_000)
    assert read_image(str(img), max_pixels=2_000_000).shape == (1000, 1200, 3)
    assert read_image(str(img), max_pixels=0).shape == (1000, 1200, 3)  # 0: no limit
    monkeypatch.setenv("GESTUREKIT_MAX_IMAGE_PIXELS", "1000000")
    with pytest.raises(SourceError, match="over the limit of 1 megapixels"):
        ImageSource(str(img))
    monkeypatch.setenv("GESTUREKIT_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(InputError, match="GESTUREKIT_MAX_IMAGE_PIXELS"):
        read_image(str(img))


def test_header_sizes_of_the_shared_photos(data):
    for rel in ("tracking/hands.jpg", "tracking/thumbs-up.png", "tracking/hand_thumb_up.jpg",
                "tracking/hand_landmarker_test_image.jpg"):
        path = str(data(rel))
        h, w = read_image(path).shape[:2]
        assert image_size(path) == check_image(path) == (w, h), rel


def test_a_folder_fails_up_front_on_a_too_large_image(tmp_path, data):
    folder = tmp_path / "imgs"
    folder.mkdir()
    shutil.copy(data("tracking/hands.jpg"), folder / "a.jpg")
    _png(folder / "b.png", 7000, 6000)
    with pytest.raises(SourceError, match=r"b.png: 7000x6000"):
        ImageSource(str(folder))


def test_a_folder_is_decoded_lazily(tmp_path, data):
    folder = tmp_path / "imgs"
    folder.mkdir()
    for i in range(8):
        shutil.copy(data("tracking/hands.jpg"), folder / f"{i}.jpg")
    reader = ThreadedReader(ImageSource(str(folder)))
    it = iter(reader)
    got = [next(it).index]
    wait_for(lambda: reader._q.full(), timeout=10, what="the reader to decode one image ahead")
    time.sleep(0.3)  # time to decode more, if it did
    for i in range(2, 8):  # not decoded yet: the source must find them broken when it gets there
        (folder / f"{i}.jpg").write_bytes(b"not a picture")
    with pytest.raises(SourceError, match=r"not a readable image: .*2\.jpg$"):
        for item in it:
            got.append(item.index)
    reader.close()
    assert got == [0, 1]


def test_a_truncated_jpeg_is_tracked_with_a_warning(tmp_path, data, caplog):
    whole = data("tracking/hands.jpg").read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(whole[: len(whole) // 2])
    with caplog.at_level(logging.WARNING, logger="gesturekit.sources"):
        img = read_image(str(data("tracking/hands.jpg")))
        assert not caplog.records
        part = read_image(str(cut))
    assert part.shape == img.shape == (382, 720, 3)
    assert np.array_equal(part[:50], img[:50])  # the top decoded; the rest is filled
    [rec] = caplog.records
    assert str(cut) in rec.getMessage() and "truncated JPEG" in rec.getMessage()


def test_a_truncated_png_is_an_error_saying_so(tmp_path, data):
    whole = data("tracking/thumbs-up.png").read_bytes()
    cut = tmp_path / "cut.png"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(SourceError, match=r"truncated PNG.*cut.png"):
        read_image(str(cut))


def test_a_video_with_too_large_frames_is_refused(data):
    path = str(data("tracking/asl_hand.25fps.mp4"))  # 620 x 1080
    with pytest.raises(SourceError, match=r"asl_hand.25fps.mp4: video frames: 620x1080 is 0.7 megapixels"):
        VideoFileSource(path, max_pixels=500_000)
    src = VideoFileSource(path)
    assert (src.width, src.height) == (620, 1080) and math.isclose(src.fps, 25.0)
