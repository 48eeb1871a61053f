"""The sweep of a hand (what ``motion:`` and the swipes test), on exact geometric hands: measured
across lost and blurred frames, in a palm length that ignores collapsed frames, following a
pointing fingertip only as far as the palm moves with it; and the library's swipes on top."""

from __future__ import annotations

import numpy as np
import pytest
from rules_helpers import frame, hand_points, make_hand, pose_points

from gesturekit.classifiers.rules import RulesClassifier, load_library
from gesturekit.features import FeatureExtractor, sweep

DT = 1 / 15
PX_PER_M = 500.0
PALM = float(np.linalg.norm(pose_points("open_palm")[[5, 9, 13, 17]] - pose_points("open_palm")[0], axis=1).mean()
             * PX_PER_M)  # the palm length in pixels: about 42


def _feed(ex: FeatureExtractor, xs: list[float | None], *, y: float = 240.0, shrink: dict[int, float] | None = None,
          pose: str = "open_palm") -> list:
    """One frame per x (None: the hand is lost); ``shrink[i]`` scales frame i's hand (a blurred,
    collapsed detection). Returns the features of the last frame."""
    feats = None
    for i, x in enumerate(xs):
        hands = () if x is None else (make_hand(pose_points(pose), 1, offset_px=(x, y),
                                                px_per_m=PX_PER_M * (shrink or {}).get(i, 1.0)),)
        feats = ex.extract(frame(*hands, t=i * DT, index=i))
    return feats


def test_a_sweep_is_measured_across_lost_frames():
    ex = FeatureExtractor()
    # 3 frames still, lost for 4 frames mid-sweep, then found 160 px further on
    feats = _feed(ex, [200.0, 200.0, 200.0, None, None, None, None, 360.0])
    mv = feats.movement(0, 0.4)
    # unmirrored: toward the image's right is the performer's left (-x); 160 px in palm lengths
    assert mv.displacement == pytest.approx([-160 / PALM, 0.0], rel=1e-3, abs=1e-6)
    assert mv.dt == pytest.approx(7 * DT)  # from the last position before the loss to the first after
    disp, dt = feats.motion(0, 0.4)
    assert disp == pytest.approx(mv.displacement) and dt == pytest.approx(mv.dt)


def test_time_in_which_the_hand_was_lost_does_not_count_toward_the_window():
    # six lost frames (0.47 s at 15 fps) are longer than the 0.4 s window, but the hand was in
    # view for only a few frames of it: the sweep still starts before the loss
    ex = FeatureExtractor()
    feats = _feed(ex, [200.0, 200.0, None, None, None, None, None, None, 400.0])
    assert feats.movement(0, 0.4).displacement[0] == pytest.approx(-200 / PALM, rel=1e-3)
    # a hand lost for longer than the extractor's gap starts afresh
    ex = FeatureExtractor(gap=0.3)
    feats = _feed(ex, [200.0, 200.0, None, None, None, None, None, None, 400.0])
    assert feats.movement(0, 0.4).dt == 0.0


def test_collapsed_frames_are_no_end_of_the_sweep_and_do_not_shrink_the_palm():
    # mid-sweep the blurred detections collapse to a third of the palm's length (40 px -> 13 px)
    ex = FeatureExtractor()
    xs = [200.0, 200.0, 250.0, 320.0, 390.0]
    feats = _feed(ex, xs, shrink={2: 0.3, 3: 0.3, 4: 0.3})
    mv = feats.movement(0, 0.4)
    assert mv.dt == pytest.approx(DT)  # the sweep so far: only sharp samples count as its ends
    feats = ex.extract(frame(make_hand(pose_points("open_palm"), 1, offset_px=(440.0, 240.0), px_per_m=PX_PER_M),
                             t=5 * DT, index=5))
    mv = feats.movement(0, 0.4)
    assert mv.displacement[0] == pytest.approx(-240 / PALM, rel=1e-3)  # in the sharp frames' palm length
    assert mv.dt == pytest.approx(5 * DT)


def test_the_sweep_follows_a_fingertip_only_as_far_as_the_palm_moves_with_it():
    down = np.array([0.0, -1.0])
    # a pointing finger flicked down 2.4 palms while the palm drops 0.6: the fingertip's sweep
    swept, by_tip = sweep(0.6 * down, 2.4 * down)
    assert by_tip and swept == pytest.approx(2.4 * down)
    # a finger curling (or misread) while the palm stays: the palm's (no) sweep
    swept, by_tip = sweep(np.array([0.02, 0.0]), 1.5 * down)
    assert not by_tip and np.linalg.norm(swept) < 0.05
    # the fingertip counts at most five times as far as the palm went
    assert sweep(0.2 * down, 2.4 * down)[0] == pytest.approx(1.0 * down)
    # a palm moving sideways while the fingertip drops: the palm's sweep, never a wrong-axis one
    swept, by_tip = sweep(np.array([-0.9, -0.2]), np.array([-1.1, -1.3]))
    assert not by_tip and swept == pytest.approx([-0.9, -0.2])
    # a flat hand sweeping: the palm and the fingertip move alike
    assert sweep(np.array([3.0, 0.1]), np.array([3.2, 0.0]))[1]


# -- the library's swipes ---------------------------------------------------------------------------


def _pulses(clf: RulesClassifier, hands: list) -> list[str]:
    out = []
    for i, h in enumerate(hands):
        dets = clf.classify(frame(*(() if h is None else (h,)), t=i * DT, index=i))
        out += [d.gesture for d in dets if d.kind == "pulse"]
    return out


def _flick(bend: float, drop: float, x: float = 320.0, y: float = 200.0):
    """A pointing hand whose index is bent ``bend`` degrees at the knuckle (toward the camera),
    ``drop`` palm lengths lower."""
    p = hand_points({"index": (bend, 0.0, 0.0), "middle": (70, 100, 60), "ring": (70, 100, 60),
                     "pinky": (70, 100, 60)}, thumb="folded")
    return make_hand(p, 1, offset_px=(x, y + drop * PALM), px_per_m=PX_PER_M)


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_a_pointing_finger_flicked_down_then_up_is_swipe_down_then_swipe_up(library):
    clf = RulesClassifier(library)
    still_up, still_down = [_flick(0, 0)] * 4, [_flick(120, 1.0)] * 10
    flick_down = [_flick(60, 0.5), _flick(120, 1.0)]
    flick_up = [_flick(60, 0.5), _flick(0, 0.0)]
    assert _pulses(clf, still_up + flick_down + still_down + flick_up + still_up) == ["swipe_down", "swipe_up"]


def test_a_finger_curling_into_a_fist_is_no_swipe(library):
    clf = RulesClassifier(library)
    curl = [_flick(0, 0)] * 4 + [make_hand(pose_points("fist"), 1, offset_px=(320, 200), px_per_m=PX_PER_M)] * 6
    assert _pulses(clf, curl) == []


def test_a_fist_sweeping_is_no_swipe_but_a_pointing_hand_is(library):
    xs = [200.0] * 3 + [200.0 + 35 * i for i in range(1, 4)] + [305.0] * 3  # 2.5 palm lengths in 0.2 s
    for pose, expected in (("fist", []), ("pointing_up", ["swipe_left"]), ("victory", ["swipe_left"]),
                           ("open_palm", ["swipe_left"])):
        clf = RulesClassifier(library)
        hands = [make_hand(pose_points(pose), 1, offset_px=(x, 240), px_per_m=PX_PER_M) for x in xs]
        assert _pulses(clf, hands) == expected, pose


@pytest.mark.parametrize("lost", [1, 3, 6])
def test_a_swipe_that_loses_the_hand_in_blurred_frames_fires_once(lost, library):
    clf = RulesClassifier(library)
    hand = lambda x, s=1.0: make_hand(pose_points("open_palm"), 1, offset_px=(x, 240), px_per_m=PX_PER_M * s)  # noqa: E731
    before = [hand(150.0)] * 4 + [hand(190.0, 0.4)]  # the first blurred frame collapses the palm
    after = [hand(150.0 + 2.5 * PALM)] * 4
    assert _pulses(clf, before + [None] * lost + after) == ["swipe_left"]


def test_a_slow_drift_and_a_diagonal_are_no_swipes(library):
    clf = RulesClassifier(library)
    slow = [make_hand(pose_points("open_palm"), 1, offset_px=(200 + 8 * i, 240), px_per_m=PX_PER_M) for i in range(30)]
    assert _pulses(clf, slow) == []
    clf = RulesClassifier(library)
    diagonal = [make_hand(pose_points("open_palm"), 1, offset_px=(200 + 40 * i, 100 + 40 * i), px_per_m=PX_PER_M)
                for i in range(6)]
    assert _pulses(clf, diagonal) == []
