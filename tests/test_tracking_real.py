"""The tracker on many people and real motion: duplicate detections merged, one id and one
handedness per hand through a fast blurred sweep, and small hands in photos found with tiles.

The found rate over all HaGRID test/val photos is measured by ``benchmarks/bench_tiles.py``
(quoted in docs/tracker.md); here a handful of photos stand for it.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
from shared_data import data_file

from gesturekit import InputError
from gesturekit.sources import VideoFileSource, read_image
from gesturekit.tracking import Tracker, TrackerOptions

SWIPES = "dynamic/swipe_left_right.mp4"
#: Frames of swipe_left_right.mp4 where MediaPipe 0.10.21 (full) returns the one hand twice, ~20 px apart.
DUPLICATED = (9, 45, 47, 66, 75)


@pytest.fixture(scope="module")
def swipe_frames():
    src = VideoFileSource(str(data_file(SWIPES)))
    with Tracker(TrackerOptions(model="full")) as tracker:
        frames = [tracker.process(item.image, t=item.t, index=item.index) for item in src]
    src.close()
    return frames


def test_one_hand_sweeping_back_and_forth_is_one_track_with_one_handedness(swipe_frames):
    hands = [h for f in swipe_frames for h in f.hands]
    assert len(swipe_frames) == 80 and len(hands) >= 72  # lost in a few blurred frames only
    assert {h.track_id for h in hands} == {1}  # through losses of 2 frames mid-sweep (frames 42-43, 69-70)
    # MediaPipe calls it a right hand in frames 72-73; the track stays the left hand it is
    assert {h.handedness for h in hands} == {"left"}


def test_a_duplicate_detection_gives_one_hand(swipe_frames):
    assert all(len(f.hands) <= 1 for f in swipe_frames)
    assert [len(swipe_frames[i].hands) for i in DUPLICATED] == [1] * len(DUPLICATED)


# -- small hands in photos -----------------------------------------------------------------------------

#: HaGRID test/val photos whose gesture hand (2-4 % of the photo's width) the full view misses.
SMALL_HANDS = (
    "images/one/24480672-cdd5-47d8-bb89-40e7ae9d8c38.jpg",
    "images/ok/7be4e81c-f64b-43bc-9bce-5ac7bf17a979.jpg",
    "images/rock/1b1fadeb-db6a-4cd5-9a04-028fc7ecc7cc.jpg",
)


def _gesture_box(file: str) -> list[float]:
    rows = {r["file"]: r for r in csv.DictReader(data_file("gestures/hagrid_sample/labels.csv").open())}
    row = rows[file]
    labels, boxes = row["labels"].split(";"), json.loads(row["bboxes"])
    return next(b for lab, b in zip(labels, boxes, strict=True) if lab != "no_gesture")


def _in_box(frame, box: list[float]) -> bool:  # noqa: ANN001
    x, y, w, h = box
    for hand in frame.hands:
        n = hand.keypoints / np.array([frame.width, frame.height])
        if ((n[:, 0] >= x) & (n[:, 0] <= x + w) & (n[:, 1] >= y) & (n[:, 1] <= y + h)).mean() >= 0.5:
            return True
    return False


@pytest.mark.parametrize("file", SMALL_HANDS)
def test_a_small_hand_is_found_with_tiles_and_not_without(file):
    image = read_image(str(data_file(f"gestures/hagrid_sample/{file}")))
    box = _gesture_box(file)
    with Tracker(TrackerOptions(mode="image", tiles=False)) as plain:
        assert not _in_box(plain.process(image), box)
    with Tracker(TrackerOptions(mode="image")) as tiled:  # tiles are on by default for images
        frame = tiled.process(image)
    assert _in_box(frame, box)
    assert 1 <= len(frame.hands) <= 2


@pytest.mark.parametrize("crop", ["10_palm.png", "03_four.png", "30_xsign.png"])
def test_tiles_add_no_hand_where_the_full_view_sees_the_hands(crop):
    # a tile of a large hand shows a part of it that a close look may take for a hand
    image = read_image(str(data_file(f"gestures/hagrid_chart/{crop}")))
    with Tracker(TrackerOptions(mode="image", tiles=False)) as plain, Tracker(TrackerOptions(mode="image")) as tiled:
        assert len(tiled.process(image).hands) == len(plain.process(image).hands)


def test_tiles_default_to_images_only_and_refuse_video():
    assert TrackerOptions().resolved(live=False, mode="image").tiles is True
    assert TrackerOptions().resolved(live=True).tiles is False
    assert TrackerOptions(tiles=False).resolved(live=False, mode="image").tiles is False
    with pytest.raises(InputError, match="tiles work on still images"):
        TrackerOptions(tiles=True).resolved(live=True)
    with pytest.raises(InputError, match="tiles work on still images"):
        TrackerOptions.create(tiles=True, mode="video")
