"""``run --annotate``: the real clip, tracked by real MediaPipe, drawn frame for frame."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from gesturekit import Frame, GestureEvent
from gesturekit.chain.builder import Chain
from gesturekit.render import PULSE_SHOW, GestureState, draw_frame
from gesturekit.settings import Settings


def _magenta(frames: np.ndarray) -> np.ndarray:
    """Mask of the wrist disc's colour (BGR 255, 0, 255) after MPEG-4 compression."""
    b, g, r = (frames[..., i].astype(np.int16) for i in range(3))
    return (b > 170) & (r > 170) & (g < 90)


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    from conftest import run_cli
    from shared_data import data_file

    d = tmp_path_factory.mktemp("annotate")
    out, frames, rec = d / "out.mp4", d / "frames.jsonl", d / "rec.jsonl"
    r = run_cli("run", "--source", data_file("tracking/asl_hand.25fps.mp4"), "--model", "lite", "--annotate", out,
                "--frames-jsonl", frames, "--record-landmarks", rec, timeout=240)
    assert r.returncode == 0, r.stderr
    events = [json.loads(line) for line in r.stdout.splitlines()]
    return out, [json.loads(line) for line in frames.read_text().splitlines()], rec, events


def test_annotated_video_has_every_frame_at_the_input_rate(annotated):
    out, frames, _, _ = annotated
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened()
    assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(25.0, abs=1e-6)
    assert (cap.get(cv2.CAP_PROP_FRAME_WIDTH), cap.get(cv2.CAP_PROP_FRAME_HEIGHT)) == (620, 1080)
    n = 0
    while cap.read()[0]:
        n += 1
    cap.release()
    assert n == 325 == len(frames)


def test_drawn_wrist_is_where_the_tracker_put_it(annotated):
    out, frames, _, _ = annotated
    cap = cv2.VideoCapture(str(out))
    errors = []
    for fr in frames:
        ok, img = cap.read()
        assert ok
        ys, xs = np.nonzero(_magenta(img))
        if not fr["hands"]:
            assert len(xs) == 0, fr["index"]
            continue
        assert len(xs) > 40, f"frame {fr['index']}: no wrist disc drawn"
        wrist = np.array(fr["hands"][0]["keypoints"][0])
        errors.append(np.hypot(xs.mean() - wrist[0], ys.mean() - wrist[1]))
    cap.release()
    errors = np.array(errors)
    assert len(errors) >= 320
    assert errors.max() < 3.0, f"worst {errors.max():.2f} px at frame {int(errors.argmax())}"
    assert np.median(errors) < 1.0


def test_each_frame_is_drawn_with_the_gestures_active_at_it(annotated, tmp_path, monkeypatch):
    """The observer draws frame N with the events the sinks got up to frame N (a replay of the
    same session through the chain gives the same events as the run that recorded it)."""
    _, frames, rec, events = annotated
    drawn: dict[int, set[str]] = {}
    import gesturekit.render.video as video

    real_add = video.AnnotatedVideo.add

    def spy(self, frame, active=(), lines=(), image=None):
        drawn[frame.index] = {g.gesture for g in active}
        return real_add(self, frame, active, lines, image)

    monkeypatch.setattr(video.AnnotatedVideo, "add", spy)
    settings = Settings.model_validate({"source": str(rec), "observers": {"v": {"type": "annotate",
                                                                                "path": str(tmp_path / "r.avi")}}})
    got = []
    with Chain(settings) as chain:
        for result in chain.run():
            got.extend(e.to_dict() for e in result.events)
    assert [(e["gesture"], e["phase"], e["frame"]) for e in got] == \
        [(e["gesture"], e["phase"], e["frame"]) for e in events]
    assert sorted(drawn) == list(range(325))
    want: dict[int, set[str]] = {i: set() for i in range(325)}
    times = np.array([f["t"] for f in frames])
    open_: dict[tuple, int] = {}
    for e in events:
        key = (e["gesture"], tuple(h["id"] for h in e["hands"]))
        if e["phase"] == "start":
            open_[key] = e["frame"]
        elif e["phase"] == "end":
            for i in range(open_.pop(key), e["frame"]):  # the end's frame no longer shows it
                want[i].add(e["gesture"])
        elif e["phase"] == "pulse":  # shown for PULSE_SHOW seconds
            for i in np.nonzero((times >= e["t"]) & (times - e["t"] <= PULSE_SHOW))[0]:
                want[int(i)].add(e["gesture"])
    for (g, _), a in open_.items():
        for i in range(a, 325):
            want[i].add(g)
    assert any(want.values())
    assert drawn == want
    cap = cv2.VideoCapture(str(tmp_path / "r.avi"))  # a replay has no pixels: a dark canvas
    ok, img = cap.read()
    assert ok and img.shape == (1080, 620, 3) and np.median(img) < 40 and _magenta(img).sum() > 40


def test_gesture_state_follows_the_phases():
    st = GestureState(pulse_show=0.5)
    hand = ({"id": 1, "handedness": "right"},)

    def ev(g, phase, t, **kw):
        return GestureEvent(g, phase, t, 0, hand, **kw)

    st.apply([ev("pinch", "start", 0.0, values={"distance": 0.2})])
    st.apply([ev("pinch", "update", 0.1, values={"distance": 0.1}), ev("swipe_left", "pulse", 0.1)])
    act = st.active(0.2)
    assert [(a.gesture, a.since, dict(a.values)) for a in act] == [("pinch", 0.0, {"distance": 0.1}),
                                                                  ("swipe_left", 0.1, {})]
    assert act[0].label() == "pinch distance 0.10" and act[1].pulse
    assert [a.gesture for a in st.active(0.7)] == ["pinch"]  # the pulse is gone after 0.5 s
    st.apply([ev("pinch", "end", 0.8)])
    assert st.active(0.8) == []


def test_draw_frame_writes_the_active_gesture_next_to_its_hand(data):
    from gesturekit.sources import read_image
    from gesturekit.tracking import Tracker, TrackerOptions

    image = read_image(str(data("tracking/thumbs-up.png")))
    with Tracker(TrackerOptions(model="full", mode="image", max_hands=1)) as tracker:
        frame: Frame = tracker.process(image)
    assert len(frame.hands) == 1
    hand = frame.hands[0]
    plain = draw_frame(image, frame, [])
    st = GestureState()
    st.apply([GestureEvent("thumbs_up", "start", 0.0, 0, ({"id": hand.track_id, "handedness": hand.handedness},))])
    labelled = draw_frame(image, frame, st.active(0.0))
    assert labelled.shape == image.shape and not np.shares_memory(labelled, image)
    diff = np.nonzero(np.any(labelled != plain, axis=2))
    assert len(diff[0]) > 100  # the label's text
    top = hand.keypoints[:, 1].min()
    assert diff[0].max() < top  # drawn above the hand, nowhere else
    ys, xs = np.nonzero(_magenta(plain) & ~_magenta(image))  # the photo has some magenta of its own
    np.testing.assert_allclose([xs.mean(), ys.mean()], hand.keypoint("wrist"), atol=1.0)


def test_annotate_bad_output_name_fails_in_one_line(cli, data, tmp_path):
    r = cli("run", "--source", data("tracking/hands.jpg"), "--annotate", tmp_path / "out.txt")
    assert r.returncode == 2
    assert r.stderr.strip().splitlines() == [
        f"gesturekit: error: observers.annotate.path: cannot write video {tmp_path / 'out.txt'}: use a name ending in "
        ".avi, .m4v, .mkv, .mov, .mp4, .webm"]
    r = cli("run", "--source", data("tracking/hands.jpg"), "--annotate", tmp_path / "no" / "out.mp4")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert "folder" in r.stderr and "does not exist" in r.stderr
