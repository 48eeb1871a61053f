"""The temporal engine on scripted detection streams: exact event sequences."""

from __future__ import annotations

import numpy as np
import pytest

from gesturekit import Detection, Frame, Hand
from gesturekit.chain.builder import build_engine
from gesturekit.temporal import TemporalEngine, TemporalSpec

DT = 0.1  # a 10 fps clock keeps the arithmetic readable


def _hand(track_id: int, handedness: str = "right") -> Hand:
    return Hand(track_id, handedness, 1.0, 1.0, np.zeros((21, 2)), np.zeros((21, 3)))


def _frame(i: int, hands: tuple[Hand, ...] = (), dt: float = DT) -> Frame:
    return Frame(index=i, t=round(i * dt, 9), width=640, height=480, source="script", hands=hands)


def _run(engine: TemporalEngine, script: list, hands: tuple[Hand, ...] = (_hand(1),), dt: float = DT,
         finish: bool = True) -> list[tuple]:
    """Feed ``script`` (one list of Detections, or one Detection, or None per frame) and return
    compact ``(frame, phase, gesture, values)`` tuples."""
    out = []
    for i, dets in enumerate(script):
        dets = [] if dets is None else ([dets] if isinstance(dets, Detection) else dets)
        for ev in engine.update(_frame(i, hands, dt), dets):
            out.append(ev)
    if finish:
        out.extend(engine.finish(round((len(script) - 1) * dt, 9)))
    seqs = [ev.seq for ev in out]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs))) if seqs else True, "seq must count up by one"
    return [(ev.frame, ev.phase, ev.gesture, dict(ev.values)) for ev in out]


FIST = Detection("fist", 0.9, (1,))


def test_min_duration_then_hold_cadence_and_end_after_release():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.2, hold_interval=0.3, release=0.2))
    got = _run(eng, [FIST] * 10 + [None] * 4, finish=False)
    assert got == [
        (2, "start", "fist", {}),  # detected at 0.0, 0.1, 0.2: 0.2 s continuous
        (5, "hold", "fist", {}),
        (8, "hold", "fist", {}),
        (11, "end", "fist", {}),  # last seen at 0.9, 0.2 s later
    ]


def test_interrupted_detection_restarts_min_duration():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.2, hold_interval=0, release=0.2))
    # one missing frame while pending resets the count: start needs continuous detection
    got = _run(eng, [FIST, FIST, None, FIST, FIST, FIST], finish=False)
    assert got == [(5, "start", "fist", {})]


def test_single_frame_blips_never_start():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.1))
    assert _run(eng, [FIST, None, FIST, None, FIST, None, None]) == []


def test_flicker_within_grace_does_not_end():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.0, hold_interval=0, release=0.25))
    script = [FIST, None, FIST, None, None, FIST, None, None, None, None]
    got = _run(eng, script, finish=False)
    # gaps of 0.2 s (< release 0.25) are bridged; the 0.3 s gap after frame 5 ends it at frame 8
    assert got == [(0, "start", "fist", {}), (8, "end", "fist", {})]


def test_update_only_on_change_and_rate_limited():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.0, hold_interval=0, update_interval=0.3, release=0.1))
    vals = [0.10, 0.10, 0.20, 0.30, 0.40, 0.40, 0.40, 0.40, 0.50, 0.50]
    script = [Detection("pinch", 1.0, (1,), {"distance": v}) for v in vals]
    got = _run(eng, script)
    assert got == [
        (0, "start", "pinch", {"distance": 0.10}),
        (3, "update", "pinch", {"distance": 0.30}),  # changed at frame 2, but 0.3 s since start
        (6, "update", "pinch", {"distance": 0.40}),  # frame 4 changed; limited until frame 6
        (9, "update", "pinch", {"distance": 0.50}),
        (9, "end", "pinch", {"distance": 0.50}),  # finish()
    ]


def test_update_threshold_ignores_small_changes():
    spec = TemporalSpec(min_duration=0.0, hold_interval=0, update_interval=0.1, update_threshold=0.05)
    eng = TemporalEngine(default=spec)
    vals = [0.10, 0.12, 0.14, 0.16, 0.30]
    got = _run(eng, [Detection("pinch", 1.0, (1,), {"distance": v}) for v in vals], finish=False)
    assert [(f, p) for f, p, _, _ in got] == [(0, "start"), (3, "update"), (4, "update")]
    assert got[1][3] == {"distance": 0.16}


def test_cooldown_after_end_blocks_restart():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.0, hold_interval=0, release=0.1, cooldown=0.5))
    script = [FIST, FIST, None] + [FIST] * 8
    got = _run(eng, script, finish=False)
    # end at 0.2 -> cooldown until 0.7: the detections at 0.3 .. 0.6 are ignored
    assert got == [(0, "start", "fist", {}), (2, "end", "fist", {}), (7, "start", "fist", {})]


def test_pulse_once_then_cooldown():
    specs = {"swipe_left": TemporalSpec(cooldown=0.4)}
    eng = TemporalEngine(specs)
    sw = Detection("swipe_left", 0.8, (1,), {"speed": 2.0}, kind="pulse")
    got = _run(eng, [sw, sw, sw, None, sw, sw, None, None])
    assert got == [(0, "pulse", "swipe_left", {"speed": 2.0}), (4, "pulse", "swipe_left", {"speed": 2.0})]


def test_pulse_without_cooldown_repeats_and_never_starts_or_ends():
    eng = TemporalEngine()
    sw = Detection("swipe_up", 1.0, (1,), kind="pulse")
    got = _run(eng, [sw, None, sw, sw])
    assert [(f, p) for f, p, _, _ in got] == [(0, "pulse"), (2, "pulse"), (3, "pulse")]


def test_finish_ends_everything_still_active_and_drops_pending():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.1, hold_interval=0))
    both = [FIST, Detection("open_palm", 0.7, (2,))]
    script = [both, both, both, [FIST]]
    got = _run(eng, script, hands=(_hand(1), _hand(2, "left")))
    assert got == [
        (1, "start", "fist", {}),
        (1, "start", "open_palm", {}),
        (3, "end", "fist", {}),  # finish(0.3)
        (3, "end", "open_palm", {}),  # still within its grace period: finish ends it too
    ]
    assert eng.active == []
    # pending (not yet started) tracks give no end
    eng2 = TemporalEngine(default=TemporalSpec(min_duration=1.0))
    assert _run(eng2, [FIST, FIST]) == []


def test_two_hand_gesture_carries_both_hands_and_events_are_complete():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.0, hold_interval=0.2, update_interval=0.1),
                         source="cam")
    hands = (_hand(3, "right"), _hand(7, "left"))
    events = []
    for i, d in enumerate([0.2, 0.3, 0.3]):
        # the classifier may list the hands in either order: one track
        order = (7, 3) if i % 2 else (3, 7)
        events += eng.update(_frame(i, hands), [Detection("zoom_in", 0.6, order, {"distance": d})])
    events += eng.finish(0.2)
    assert [e.phase for e in events] == ["start", "update", "hold", "end"]
    assert [e.seq for e in events] == [0, 1, 2, 3]
    for e in events:
        assert e.hands == ({"id": 3, "handedness": "right"}, {"id": 7, "handedness": "left"})
        assert e.source == "cam" and e.gesture == "zoom_in" and e.score == pytest.approx(0.6)
    assert [e.t for e in events] == [0.0, 0.1, 0.2, 0.2]
    assert [e.frame for e in events] == [0, 1, 2, 2]
    assert events[1].values == {"distance": 0.3}
    assert events[0].to_dict()["hands"] == [{"id": 3, "handedness": "right"}, {"id": 7, "handedness": "left"}]


def test_tracks_are_per_hand_and_duplicates_keep_best_score():
    eng = TemporalEngine(default=TemporalSpec(min_duration=0.0, hold_interval=0))
    hands = (_hand(1), _hand(2, "left"))
    ev = eng.update(_frame(0, hands), [Detection("fist", 0.4, (1,)), Detection("fist", 0.9, (1,)),
                                       Detection("fist", 0.5, (2,))])
    assert [(e.hands[0]["id"], e.score) for e in ev] == [(1, 0.9), (2, 0.5)]
    assert [e.source for e in ev] == ["script", "script"]  # no engine source: the frame's


def test_per_gesture_specs_and_set_specs():
    eng = TemporalEngine({"fist": TemporalSpec(min_duration=0.3, hold_interval=0)},
                         default=TemporalSpec(min_duration=0.0, hold_interval=0))
    script = [[FIST, Detection("ok", 1.0, (1,))]] * 4
    got = _run(eng, script, finish=False)
    assert [(f, p, g) for f, p, g, _ in got] == [(0, "start", "ok"), (3, "start", "fist")]
    eng.set_specs({}, default=TemporalSpec(min_duration=0.0))
    assert eng.spec_for("fist").min_duration == 0.0


def test_spec_rejects_negative_times():
    with pytest.raises(ValueError, match="release"):
        TemporalSpec(release=-1)


def test_build_engine_takes_specs_from_classifiers():
    class Timed:
        def classify(self, frame):
            return []

        def temporal_specs(self):
            return {"wave": TemporalSpec(min_duration=0.5)}

    class Untimed:
        def classify(self, frame):
            return []

    eng = build_engine({"a": Untimed(), "b": Timed()})
    assert eng.spec_for("wave").min_duration == 0.5
    assert eng.spec_for("other") == TemporalSpec()
