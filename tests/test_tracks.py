"""Track ids: stable while a hand stays, never swapped when hands cross."""

import numpy as np

from gesturekit.tracking import TrackAssigner


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
