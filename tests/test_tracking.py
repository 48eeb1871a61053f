"""The tracker on real footage, against MediaPipe's golden outputs (tfjs-models, mediapipe-samples)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from shared_data import data_file

from gesturekit.sources import open_source, read_image
from gesturekit.tracking import MCP_KNUCKLES, Tracker, TrackerOptions, model_bundle

CLIP = "tracking/asl_hand.25fps.mp4"


def _track_clip(model: str) -> list:
    frames = []
    with Tracker(TrackerOptions(model=model)) as tracker:
        for item in open_source(str(data_file(CLIP))):
            frames.append(tracker.process(item.image, t=item.t, index=item.index, source="clip"))
    return frames


@pytest.fixture(scope="module")
def full_frames():
    return _track_clip("full")


@pytest.fixture(scope="module")
def lite_frames():
    return _track_clip("lite")


def test_full_model_finds_the_hand_in_every_frame(full_frames):
    assert len(full_frames) == 325
    assert all(len(f.hands) == 1 for f in full_frames)


def test_full_model_matches_golden_2d_keypoints(full_frames):
    golden = np.array(json.loads(data_file("tracking/asl_hand.full.json").read_text()))[:, :, :2]
    ours = np.array([f.hands[0].keypoints for f in full_frames])
    err = np.linalg.norm(ours - golden, axis=2)
    assert err.mean() < 1.5, f"mean 2D error {err.mean():.3f} px"
    assert np.median(err.mean(axis=1)) < 1.0


def test_full_model_world_keypoints_match_golden_after_moving_origin(full_frames):
    golden = np.array(json.loads(data_file("tracking/asl_hand_3d.full.json").read_text()))
    golden = golden - golden[:, MCP_KNUCKLES].mean(axis=1, keepdims=True)
    ours = np.array([f.hands[0].keypoints3d for f in full_frames])
    # The origin convention holds exactly for our values ...
    assert np.abs(ours[:, MCP_KNUCKLES].mean(axis=1)).max() < 1e-9
    # ... and they agree with the golden world landmarks to a few millimetres.
    err = np.linalg.norm(ours - golden, axis=2)
    assert err.mean() < 0.002, f"mean 3D error {err.mean() * 1000:.2f} mm"
    # Metric scale: wrist to middle MCP of an adult hand is 7-12 cm.
    palm = np.linalg.norm(ours[:, 0] - ours[:, 9], axis=1)
    assert 0.07 < np.median(palm) < 0.12


def test_one_track_id_for_the_whole_clip(full_frames):
    assert {h.track_id for f in full_frames for h in f.hands} == {full_frames[0].hands[0].track_id}


def test_frames_carry_media_time_and_size(full_frames):
    assert full_frames[25].t == pytest.approx(1.0)
    assert (full_frames[0].width, full_frames[0].height) == (620, 1080)
    assert [f.index for f in full_frames[:3]] == [0, 1, 2]


def test_lite_model_finds_the_hand_in_almost_every_frame(lite_frames):
    found = sum(1 for f in lite_frames if f.hands)
    assert found >= 320, f"lite found the hand in {found}/325 frames"


def test_lite_and_full_bundles_differ_and_are_cached():
    lite, full = model_bundle("lite"), model_bundle("full")
    assert lite != full
    assert model_bundle("lite") is lite  # built once per process


def test_two_hands_get_distinct_ids():
    img = read_image(str(data_file("tracking/hands.jpg")))
    with Tracker(TrackerOptions(mode="image")) as tracker:
        frame = tracker.process(img)
    assert len(frame.hands) == 2
    assert frame.hands[0].track_id != frame.hands[1].track_id
    # Two different hands: their wrists are far apart (the image is 720 px wide).
    assert np.linalg.norm(frame.hands[0].keypoints[0] - frame.hands[1].keypoints[0]) > 150


def test_thumbs_up_matches_expected_landmarks():
    expected = json.loads(data_file("tracking/thumbs-up.expected_landmarks.json").read_text())
    golden = np.array(expected["landmarks"][0])[:, :2]
    img = read_image(str(data_file("tracking/thumbs-up.png")))
    with Tracker(TrackerOptions(mode="image")) as tracker:
        frame = tracker.process(img)
    assert len(frame.hands) == 1
    ours = frame.hands[0].keypoints / np.array([frame.width, frame.height])
    assert np.abs(ours - golden).max() < 0.04


def test_mirroring_swaps_handedness():
    img = read_image(str(data_file("tracking/thumbs-up.png")))
    with Tracker(TrackerOptions(mode="image", mirrored=False)) as a, Tracker(
            TrackerOptions(mode="image", mirrored=True)) as b:
        ha, hb = a.process(img).hands[0], b.process(img).hands[0]
    assert (ha.handedness, hb.handedness) == ("right", "left")  # a thumbs-up of a right hand
    np.testing.assert_array_equal(ha.keypoints, hb.keypoints)


def test_smoothing_reduces_jitter_on_the_clip(full_frames):
    with Tracker(TrackerOptions(model="full", smoothing=True, smoothing_min_cutoff=0.5)) as tracker:
        smooth = [tracker.process(item.image, t=item.t, index=item.index)
                  for item in open_source(str(data_file(CLIP)))]
    raw = np.array([f.hands[0].keypoints for f in full_frames])
    sm = np.array([f.hands[0].keypoints for f in smooth])
    # Frame-to-frame acceleration (jitter) is lower, while positions stay close.
    acc = lambda k: np.abs(np.diff(k, n=2, axis=0)).mean()  # noqa: E731
    assert acc(sm) < 0.8 * acc(raw)
    assert np.linalg.norm(sm - raw, axis=2).mean() < 15


def _chirality(world: np.ndarray) -> str:
    """Anatomical hand from 3D geometry alone: (pinky->index knuckles) x (wrist->middle knuckle)
    points out of the palm of a right hand (out of the back of a left one), and fingers bend
    towards the palm."""
    n = np.cross(world[5] - world[17], world[9] - world[0])
    bend = np.mean([(world[tip] - world[mcp]) @ n for tip, mcp in [(8, 5), (12, 9), (16, 13), (20, 17)]])
    return "right" if bend > 0 else "left"


def test_handedness_is_anatomical_for_unmirrored_photos():
    # hands.jpg shows the backs of two LEFT hands (nails visible; fingers up with the thumb on
    # the image's right, and the same hand turned upside down).
    img = read_image(str(data_file("tracking/hands.jpg")))
    with Tracker(TrackerOptions(mode="image")) as tracker:
        plain = tracker.process(img)
        flipped = tracker.process(np.ascontiguousarray(img[:, ::-1]))
    assert [h.handedness for h in plain.hands] == ["left", "left"]
    # A horizontally flipped photo shows right hands.
    assert [h.handedness for h in flipped.hands] == ["right", "right"]


def test_handedness_agrees_with_3d_chirality_on_the_clip(full_frames):
    labels = [f.hands[0].handedness for f in full_frames]
    geometry = [_chirality(f.hands[0].keypoints3d) for f in full_frames]
    agree = sum(a == b for a, b in zip(labels, geometry, strict=False))
    assert agree >= 0.9 * len(full_frames), f"{agree}/{len(full_frames)} frames agree"
