"""Track ids: stable while a hand stays, never swapped when hands cross, kept through a few lost
frames; one handedness per track; duplicate detections of one hand merged."""

import numpy as np
import pytest

from gesturekit.tracking import TrackAssigner
from gesturekit.tracking.dedupe import duplicates, inside, palm_lengths
from gesturekit.tracking.handedness import HandednessVote


def _hand_at(x: float, y: float) -> np.ndarray:
    rng = np.random.default_rng(int(x * 7 + y))
    return np.array([x, y]) + rng.normal(0, 20, (21, 2))


def test_a_hand_that_stays_keeps_its_id():
    ta = TrackAssigner()
    ids = [ta.assign([_hand_at(100 + 5 * i, 300)], ["right"], i / 30, 1000.0)[0] for i in range(60)]
    assert set(ids) == {ids[0]}


def test_crossing_hands_keep_their_ids_when_handedness_is_consistent():
    ta = TrackAssigner()
    seen = []
    for i in range(40):  # left hand moves right, right hand moves left: they cross at i=20
        xl, xr = 200 + 15 * i, 800 - 15 * i
        ids = ta.assign([_hand_at(xl, 400), _hand_at(xr, 410)], ["left", "right"], i / 30, 1200.0)
        seen.append(tuple(ids))
    assert set(seen) == {seen[0]}
    assert seen[0][0] != seen[0][1]


def test_a_new_hand_far_away_gets_a_new_id_and_a_lost_hand_is_forgotten():
    ta = TrackAssigner(keep_for=0.2)
    first = ta.assign([_hand_at(100, 100)], ["right"], 0.0, 1000.0)[0]
    second = ta.assign([_hand_at(900, 700)], ["right"], 0.03, 1000.0)[0]
    assert second != first
    assert ta.assign([], [], 0.5, 1000.0) == []
    third = ta.assign([_hand_at(100, 100)], ["right"], 0.6, 1000.0)[0]
    assert third not in (first, second)


# -- a fast sweep that loses the hand for a few frames -----------------------------------------------


@pytest.mark.parametrize("lost", [1, 2, 3, 4, 5, 6])
def test_a_fast_sweep_keeps_its_id_through_lost_frames(lost):
    # 15 fps, 1280 x 720: the hand sweeps 110 px per frame (1650 px/s) and MediaPipe loses it for
    # `lost` blurred frames in the middle of the sweep
    ta = TrackAssigner()
    diag = float(np.hypot(1280, 720))
    ids = []
    for i in range(14):
        if 5 <= i < 5 + lost:
            assert ta.assign([], [], i / 15, diag) == []
            continue
        ids += ta.assign([_hand_at(100 + 110 * min(i, 11), 360)], ["right"], i / 15, diag)
    assert set(ids) == {ids[0]}


@pytest.mark.parametrize("lost", [2, 4, 6])
def test_a_sweep_that_stops_while_lost_keeps_its_id(lost):
    # the hand comes back short of where its speed would have taken it: it stopped during the loss
    ta = TrackAssigner()
    diag = float(np.hypot(1280, 720))
    first = [ta.assign([_hand_at(100 + 110 * i, 360)], ["right"], i / 15, diag)[0] for i in range(5)]
    back = ta.assign([_hand_at(100 + 110 * 5, 370)], ["right"], (5 + lost) / 15, diag)[0]
    assert set(first) == {back}


def test_a_hand_appearing_far_from_a_lost_track_gets_a_new_id():
    ta = TrackAssigner()
    diag = float(np.hypot(1280, 720))
    for i in range(4):  # a still hand on the left, then lost
        old = ta.assign([_hand_at(150, 360)], ["right"], i / 15, diag)[0]
    new = ta.assign([_hand_at(1150, 360)], ["right"], 7 / 15, diag)[0]
    assert new != old


# -- one handedness per track ----------------------------------------------------------------------------


def test_a_few_flickering_labels_do_not_change_a_tracks_handedness():
    ta = TrackAssigner()
    labels = ["left"] * 30 + ["right"] * 2 + ["left"] * 10 + ["right"] * 3 + ["left"] * 5
    out = []
    for i, lab in enumerate(labels):
        tid = ta.assign([_hand_at(300, 300)], [lab], i / 15, 1000.0, [0.78 if lab == "right" else 0.98])[0]
        out.append(ta.handedness(tid)[0])
    assert set(out) == {"left"}


def test_sustained_evidence_changes_a_tracks_handedness_after_about_a_second():
    ta = TrackAssigner()
    for i in range(30):
        tid = ta.assign([_hand_at(300, 300)], ["left"], i / 15, 1000.0, [0.95])[0]
    flipped_at = None
    for i in range(30, 60):
        ta.assign([_hand_at(300, 300)], ["right"], i / 15, 1000.0, [0.95])
        if flipped_at is None and ta.handedness(tid)[0] == "right":
            flipped_at = (i - 30) / 15
    assert flipped_at is not None and 0.5 <= flipped_at <= 1.5


def test_the_handedness_vote_weighs_confidence_and_fades():
    vote = HandednessVote("left", 0.99, 0.0)
    for i in range(1, 11):  # confident left for 0.67 s
        vote.update("left", 0.99, i / 15)
    assert vote.label == "left" and vote.confidence > 0.99
    for i in range(11, 21):  # as many frames of unsure right labels (0.55) do not outvote it
        vote.update("right", 0.55, i / 15)
    assert vote.label == "left"
    young = HandednessVote("left", 0.6, 0.0)  # a new track with a doubtful first label is corrected sooner
    for i in range(1, 5):
        young.update("right", 0.99, i / 15)
    assert young.label == "right"


# -- duplicate detections of one hand ---------------------------------------------------------------------


def _hand(x: float, y: float, scale: float = 1.0, seed: int = 0) -> np.ndarray:
    """A hand-shaped set of 21 keypoints: wrist, knuckles about 40 px away (times ``scale``), fingers."""
    rng = np.random.default_rng(seed)
    base = np.array([[0, 0]] + [[-20 + 10 * (i % 5), -30 - 12 * (i // 5)] for i in range(20)], dtype=float)
    base[[5, 9, 13, 17]] = [[-15, -38], [-5, -40], [5, -40], [15, -36]]
    return np.array([x, y]) + scale * base + rng.normal(0, 1, (21, 2))


def test_a_duplicate_of_a_hand_is_merged_into_the_better_scoring_one():
    kp = np.stack([_hand(200, 300, seed=1), _hand(212, 306, seed=2), _hand(600, 300, seed=3)])
    palm = palm_lengths(kp)
    assert np.all((palm > 35) & (palm < 45))
    assert duplicates(kp, np.array([0.62, 0.92, 0.9])).tolist() == [True, False, False]
    assert duplicates(kp, np.array([0.92, 0.62, 0.9])).tolist() == [False, True, False]


def test_two_hands_side_by_side_or_of_different_size_are_no_duplicates():
    side_by_side = np.stack([_hand(200, 300), _hand(245, 300)])  # touching, a palm width apart
    assert not duplicates(side_by_side, np.array([0.9, 0.8])).any()
    small_inside_big = np.stack([_hand(300, 300, scale=3.0), _hand(280, 250, scale=0.6)])
    assert not duplicates(small_inside_big, np.array([0.9, 0.8])).any()
    # ... but the small one lies inside the big one's box: a tile's fragment of it
    assert inside(small_inside_big[1:], small_inside_big[:1]).tolist() == [True]
    assert inside(side_by_side[1:], side_by_side[:1]).tolist() == [False]


def test_one_detection_or_none_has_no_duplicate():
    assert duplicates(np.zeros((0, 21, 2)), np.zeros(0)).tolist() == []
    assert duplicates(_hand(1, 2)[None], np.array([0.5])).tolist() == [False]
