"""The rule classifier on exact geometric hands: poses, hysteresis, unless, handedness, motion,
two-hand relations, values, temporal specs, the plugin factory and the ``gestures`` CLI."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np
import pytest
from rules_helpers import POSES, frame, hand_points, make_hand, pose_points, rotation

from gesturekit import ConfigError, Detection
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
from gesturekit.classifiers.rules import RulesClassifier, load_definitions, load_library
from gesturekit.temporal import TemporalSpec

STATIC_ONE_HAND = {"open_palm", "fist", "thumbs_up", "thumbs_down", "victory", "pointing_up", "i_love_you", "ok",
                   "call", "rock", "three", "four", "pinch", "stop", "two_up"}


@pytest.fixture(scope="module")
def library():
    return load_library()


def _static(dets: list[Detection]) -> set[str]:
    return {d.gesture for d in dets if d.kind == "static" and d.gesture in STATIC_ONE_HAND}


@pytest.mark.parametrize("pose", sorted(POSES))
def test_each_geometric_pose_gives_its_gesture_and_no_other(library, pose):
    for kw in ({}, {"rot": rotation("z", -20) @ rotation("x", 20), "px_per_m": 800},
               {"handedness": "left", "mirror_x": True}):
        clf = RulesClassifier(library)
        dets = clf.classify(frame(make_hand(pose_points(pose), **kw)))
        assert _static(dets) == {pose}, kw
        assert all(d.hands == (1,) and d.score == pytest.approx(0.9) for d in dets)


def test_thumbs_down_is_thumbs_up_upside_down(library):
    clf = RulesClassifier(library)
    dets = clf.classify(frame(make_hand(pose_points("thumbs_up"), rot=rotation("z", 180))))
    assert _static(dets) == {"thumbs_down"}


def _hand_with_thumb_index_gap(gap_palm: float, **kw) -> object:  # noqa: ANN003
    p = hand_points({"middle": (0, 0, 0)}, thumb="out")
    palm = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean()
    p[4] = p[8] + np.array([gap_palm * palm, 0.0, 0.0])
    return make_hand(p, **kw)


def test_pinch_enter_exit_hysteresis_and_value(library):
    clf = RulesClassifier(library)
    held = []
    for i, gap in enumerate([0.35, 0.25, 0.35, 0.39, 0.45, 0.35]):
        dets = [d for d in clf.classify(frame(_hand_with_thumb_index_gap(gap), t=0.1 * i)) if d.gesture == "pinch"]
        held.append(bool(dets))
        if dets:
            assert dets[0].values["distance"] == pytest.approx(gap, abs=1e-6)
    # enters below 0.3, holds until above 0.4, then needs below 0.3 again
    assert held == [False, True, True, True, False, False]


def _defs(tmp_path: Path, **files: str) -> list:
    paths = []
    for name, text in files.items():
        p = tmp_path / f"{name}.yaml"
        p.write_text(textwrap.dedent(text))
        paths.append(p)
    return load_definitions(paths)


def test_unless_and_handedness(tmp_path):
    defs = _defs(tmp_path, spread="""\
        gesturekit: 1
        name: spread
        pose: {fingers: {index: extended, middle: extended, ring: extended, pinky: extended}}
        """, index_up="""\
        gesturekit: 1
        name: index_up
        pose: {fingers: {index: extended}}
        unless: [spread]
        """, left_only="""\
        gesturekit: 1
        name: left_only
        hands: left
        pose: {fingers: {index: extended}}
        """)
    clf = RulesClassifier(defs)
    open_hand = {d.gesture for d in clf.classify(frame(make_hand(pose_points("open_palm"))))}
    pointing = {d.gesture for d in clf.classify(frame(make_hand(pose_points("pointing_up"))))}
    left = {d.gesture for d in clf.classify(frame(make_hand(pose_points("pointing_up"), handedness="left",
                                                                  mirror_x=True)))}
    assert open_hand == {"spread"}
    assert pointing == {"index_up"}
    assert left == {"index_up", "left_only"}


def _sweep(clf: RulesClassifier, dx: float, dy: float, steps: int = 5, dt: float = 1 / 15, t0: float = 0.0,
           start: tuple[float, float] = (320, 240), track: int = 1) -> list[tuple[int, str]]:
    out = []
    for i in range(steps):
        h = make_hand(pose_points("open_palm"), track, offset_px=(start[0] + dx * i, start[1] + dy * i),
                      px_per_m=500)
        for d in clf.classify(frame(h, t=t0 + i * dt, index=i)):
            if d.kind == "pulse":
                out.append((i, d.gesture))
    return out


def test_swipes_are_pulses_in_the_performers_directions(library):
    # unmirrored camera: moving toward the image's right is the performer's left
    assert [g for _, g in _sweep(RulesClassifier(library), 30, 0)] == ["swipe_left"]
    assert [g for _, g in _sweep(RulesClassifier(library, mirrored=True), 30, 0)] == ["swipe_right"]
    assert [g for _, g in _sweep(RulesClassifier(library), -30, 0)] == ["swipe_right"]
    assert [g for _, g in _sweep(RulesClassifier(library), 0, -30)] == ["swipe_up"]  # image y grows downward
    assert [g for _, g in _sweep(RulesClassifier(library), 0, 30)] == ["swipe_down"]
    # slow drift and diagonal moves outside the 35-degree cone are no swipes
    assert _sweep(RulesClassifier(library), 3, 0) == []
    assert _sweep(RulesClassifier(library), 30, 30) == []


def test_a_long_sweep_fires_again_only_after_the_window_restarts(library):
    fired = _sweep(RulesClassifier(library), 30, 0, steps=20)
    assert [g for _, g in fired] == ["swipe_left"] * len(fired) and len(fired) >= 2
    steps = [i for i, _ in fired]
    assert all(b - a >= 3 for a, b in zip(steps, steps[1:], strict=False))  # the window restarted after each


def test_zoom_in_and_out_with_the_distance_value(library):
    clf = RulesClassifier(library)
    p = pose_points("open_palm")
    got = []
    gaps = [200, 200, 260, 320, 380, 440, 440, 440, 440, 440, 440, 380, 320, 260, 200]
    for i, gap in enumerate(gaps):
        hands = (make_hand(p, 1, offset_px=(320 - gap / 2, 240), px_per_m=500),
                 make_hand(p, 2, "left", offset_px=(320 + gap / 2, 240), px_per_m=500, mirror_x=True))
        for d in clf.classify(frame(*hands, t=i / 10, index=i)):
            if d.gesture.startswith("zoom"):
                got.append((i, d.gesture, d.hands, d.values["distance"]))
    names = [g for _, g, _, _ in got]
    assert "zoom_in" in names and "zoom_out" in names
    assert names.index("zoom_in") < names.index("zoom_out")
    palm_px = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean() * 500
    for i, _, hands, dist in got:
        assert hands == (1, 2)
        assert dist == pytest.approx(gaps[i] / palm_px, rel=1e-6)
    # explain shows the relation with its measured change
    hand = clf.explain(frame(make_hand(p, 1, offset_px=(320 - 100, 240), px_per_m=500),
                             make_hand(p, 2, "left", offset_px=(320 + 100, 240), px_per_m=500, mirror_x=True),
                             t=len(gaps) / 10, index=len(gaps)))[0]
    (rel,) = [c for c in hand["conditions"] if c["gesture"] == "zoom_out"]
    assert rel["condition"] == "change of the distance to hand #2 over 0.3s < -0.8 (exit -0.3) palm"
    assert rel["holds"] and rel["value"].startswith("-")
    # hands held still for longer than the 0.3 s window: no zoom
    assert not [g for i, g, _, _ in got if 9 <= i <= 10]
    assert {g for i, g, _, _ in got if i <= 6} == {"zoom_in"} and {g for i, g, _, _ in got if i >= 12} == {"zoom_out"}


def test_temporal_specs_come_from_the_definitions(library):
    specs = RulesClassifier(library).temporal_specs()
    assert set(specs) == {d.name for d in library}
    assert specs["swipe_left"].cooldown == 0.5
    assert specs["pinch"] == TemporalSpec(min_duration=0.05, hold_interval=0.5, update_interval=0.05, release=0.15)
    assert specs["thumbs_up"].release == 0.6


def test_plugin_factory_builds_the_rules_classifier(tmp_path):
    pm = get_plugin_manager(entrypoints=False)
    factory = collect_factories(pm, "classifiers")["rules"]
    assert set(factory({}).names) == {d.name for d in load_library()}
    p = tmp_path / "wave.yaml"
    p.write_text("gesturekit: 1\nname: index_only\npose: {fingers: {index: extended, middle: curled}}\n")
    clf = factory({"gestures": [str(p)], "builtin": False})
    assert clf.names == ("index_only",)
    assert [d.gesture for d in clf.classify(frame(make_hand(pose_points("pointing_up"))))] == ["index_only"]
    with pytest.raises(ConfigError, match="unknown setting"):
        factory({"gesturez": []})


def test_cli_validate_list(cli, tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("gesturekit: 1\nname: mine\npose: {fingers: {index: extended}}\n")
    bad = tmp_path / "bad.yaml"
    bad.write_text("gesturekit: 1\nname: x\npose:\n  fingers:\n    index: straight\n")
    r = cli("gestures", "validate", good)
    assert r.returncode == 0 and f"{good}: ok (mine, static, hands: any)" in r.stdout
    r = cli("gestures", "validate", good, bad)
    assert r.returncode == 2
    assert r.stderr.strip() == (f"gesturekit: error: {bad}:5: pose.fingers.index: unknown finger state 'straight'; "
                                "expected one of: extended, half, curled")
    r = cli("gestures", "list", "--json", "--gestures", good)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert {row["name"] for row in rows} == {d.name for d in load_library()} | {"mine"}
    assert next(row for row in rows if row["name"] == "pinch")["values"] == ["distance"]


def test_palm_facing_and_finger_direction_conditions(tmp_path):
    defs = _defs(tmp_path, palm_to_camera="""\
        gesturekit: 1
        name: palm_to_camera
        pose:
          palm: {is: forward, within: 40}
          directions:
            index: up
        """, palm_to_me="""\
        gesturekit: 1
        name: palm_to_me
        pose:
          palm: back
        """)
    clf = RulesClassifier(defs)
    facing = {d.gesture for d in clf.classify(frame(make_hand(pose_points("open_palm"))))}
    turned = {d.gesture for d in clf.classify(frame(make_hand(pose_points("open_palm"), 2, rot=rotation("y", 180))))}
    left = {d.gesture for d in clf.classify(frame(make_hand(pose_points("open_palm"), 3, "left", mirror_x=True)))}
    upside_down = {d.gesture for d in clf.classify(frame(make_hand(pose_points("open_palm"), 4,
                                                                    rot=rotation("z", 180))))}
    assert facing == {"palm_to_camera"} and left == {"palm_to_camera"}
    assert turned == {"palm_to_me"}
    assert upside_down == set()  # the palm still faces the camera, but the index points down


def test_explain_reports_every_condition_with_values(library):
    clf = RulesClassifier(library)
    (hand,) = clf.explain(frame(make_hand(pose_points("thumbs_up"))))
    assert hand["gestures"] == ["thumbs_up"]
    thumb = [c for c in hand["conditions"] if c["gesture"] == "thumbs_up" and c["condition"].startswith("thumb points")]
    assert len(thumb) == 1 and thumb[0]["holds"]
    degrees = float(thumb[0]["value"].split()[0])
    assert 20 < degrees < 40  # the geometric thumb leans about 29 degrees out from straight up
    fist = [c for c in hand["conditions"] if c["gesture"] == "fist"]
    # the fingers make a fist, but fist has `unless: thumbs_up`: a thumb sticking out is not a fist
    assert fist and all(c["holds"] for c in fist) and "fist" not in hand["gestures"]


# -- per-track state: reset, pruning ---------------------------------------------------------------


def _image_frames(data, *names: str) -> list:
    import cv2

    from gesturekit.tracking import Tracker, TrackerOptions

    with Tracker(TrackerOptions(mode="image")) as tracker:
        return [tracker.process(cv2.imread(str(data(f"gestures/hagrid_chart/{n}"))), t=0.0, index=0) for n in names]


def test_reset_makes_an_image_independent_of_the_images_before(library, data):
    # reported: detect over the chart in reverse name order gave 08_ok.png ['open_palm'] instead of ['ok']
    # because the finger-state hysteresis of the image before (same track id, same t) carried over
    before, ok = _image_frames(data, "10_palm.png", "08_ok.png")
    assert [h.track_id for h in before.hands] == [h.track_id for h in ok.hands]  # the case that leaked state
    fresh = {d.gesture for d in RulesClassifier(library).classify(ok)}
    assert "ok" in fresh and "open_palm" not in fresh
    clf = RulesClassifier(library)
    clf.classify(before)
    clf.reset()
    assert clf.last is None
    assert {d.gesture for d in clf.classify(ok)} == fresh
    # the internals the CLI used before reset() existed still work the same way
    clf.classify(before)
    clf.extractor.reset()
    clf.library.reset()
    assert {d.gesture for d in clf.classify(ok)} == fresh


def test_per_track_state_stays_bounded_with_ever_new_track_ids(library):
    clf = RulesClassifier(library)
    p = pose_points("open_palm")
    for i in range(300):  # two hands per frame, each frame with new track ids (a long daemon run)
        hands = (make_hand(p, 2 * i + 1, offset_px=(200 + (i % 7) * 10, 240), px_per_m=500),
                 make_hand(p, 2 * i + 2, "left", offset_px=(440, 240), px_per_m=500, mirror_x=True))
        clf.classify(frame(*hands, t=i / 30, index=i))
        lib, ex = clf.library, clf.extractor
        assert len(lib._prev_atoms) <= 2 and len(lib._prev_pair) <= 2 * len(lib.pair_idx)
        assert max(len(ex._track), len(ex._prev_state), len(ex._reset_at)) <= 2 and len(ex._pairs) <= 1
    clf.classify(frame(t=10.0, index=300))  # no hands: only the two hands just lost are kept (they may come back)
    assert len(clf.extractor._track) <= 2
    clf.classify(frame(t=10.0 + clf.extractor.gap, index=301))  # gone for longer: nothing is kept
    assert not (clf.library._prev_atoms or clf.library._prev_pair or clf.extractor._track or clf.extractor._pairs)


def test_a_reappearing_pair_does_not_inherit_stale_hysteresis(tmp_path):
    defs = _defs(tmp_path, close="""\
        gesturekit: 1
        name: close
        hands: both
        pose: {fingers: {index: extended}}
        relation:
          distance: {below: {enter: 3, exit: 5}}
        """)
    p = pose_points("open_palm")
    palm_px = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean() * 500

    def two(gap_palm: float, t: float) -> object:
        gap = gap_palm * palm_px
        return frame(make_hand(p, 1, offset_px=(320 - gap / 2, 240), px_per_m=500),
                     make_hand(p, 2, "left", offset_px=(320 + gap / 2, 240), px_per_m=500, mirror_x=True), t=t)

    clf = RulesClassifier(defs)
    assert [d.gesture for d in clf.classify(two(2.0, 0.0))] == ["close"]
    assert [d.gesture for d in clf.classify(two(4.0, 0.1))] == ["close"]  # held: 4 < exit 5
    clf.classify(frame(make_hand(p, 1, px_per_m=500), t=0.2))  # hand 2 is gone for a frame
    assert clf.classify(two(4.0, 0.3)) == []  # back: 4 is not below enter 3, as on a fresh classifier
    assert RulesClassifier(defs).classify(two(4.0, 0.3)) == []


# -- motion in frame units and its duration --------------------------------------------------------


def _moves(clf: RulesClassifier, xs: list[float], dt: float = 1 / 15, px_per_m: float = 500, width: int = 640,
           track: int = 1) -> list[int]:
    """Step indices at which a pulse fires while the open hand's palm is at image x ``xs[i]``."""
    fired = []
    for i, x in enumerate(xs):
        h = make_hand(pose_points("open_palm"), track, offset_px=(x, 240), px_per_m=px_per_m)
        if [d for d in clf.classify(frame(h, t=i * dt, index=i, width=width)) if d.kind == "pulse"]:
            fired.append(i)
    return fired


def test_motion_distance_in_frame_units_does_not_depend_on_the_hand_size(tmp_path):
    defs = _defs(tmp_path, sweep_frame="""\
        gesturekit: 1
        name: sweep_frame
        kind: pulse
        pose: {fingers: {index: extended}}
        motion:
          window: 0.5
          direction: left
          distance_frame: {above: 0.25}
        """, sweep_palm="""\
        gesturekit: 1
        name: sweep_palm
        kind: pulse
        pose: {fingers: {index: extended}}
        motion:
          window: 0.5
          direction: left
          distance: {above: 2.0}
        """)
    xs = [100 + 40 * i for i in range(7)]  # 40 px per step toward the image's right: the performer's left
    frame_only = [d for d in defs if d.name == "sweep_frame"]
    palm_only = [d for d in defs if d.name == "sweep_palm"]
    # 0.25 of 640 px is 160 px: passed (strictly) at step 5 (200 px), whatever the hand's size in pixels
    assert _moves(RulesClassifier(frame_only), xs, px_per_m=400) == [5]
    assert _moves(RulesClassifier(frame_only), xs, px_per_m=1600) == [5]
    # in palm units the same pixel path is long for a small hand and short for a big one
    small, big = _moves(RulesClassifier(palm_only), xs, px_per_m=400), _moves(RulesClassifier(palm_only), xs,
                                                                                px_per_m=1600)
    assert small and small[0] < 5 and big == []
    # twice as wide an image: the same path is only 0.19 of the width
    assert _moves(RulesClassifier(frame_only), xs, width=1280) == []
    # the wrong way: nothing
    assert _moves(RulesClassifier(frame_only), xs[::-1]) == []


def test_motion_min_and_max_duration(tmp_path):
    defs = _defs(tmp_path, deliberate="""\
        gesturekit: 1
        name: deliberate
        kind: pulse
        pose: {fingers: {index: extended}}
        motion:
          window: 0.6
          direction: left
          distance_frame: {above: 0.2}
          min_duration: 0.2
        """, quick="""\
        gesturekit: 1
        name: quick
        kind: pulse
        pose: {fingers: {index: extended}}
        motion:
          window: 0.6
          direction: left
          distance_frame: {above: 0.2}
          max_duration: 0.15
        """)
    deliberate = RulesClassifier([d for d in defs if d.name == "deliberate"])
    quick = RulesClassifier([d for d in defs if d.name == "quick"])
    dt = 1 / 15
    jump = [100.0] * 3 + [300.0] * 6  # a one-frame jump (e.g. a tracking glitch) of 200 px, then still
    steady = [100 + 40 * i for i in range(8)]  # 40 px per 1/15 s: 160 px after 0.27 s, 200 px after 0.33 s
    slow = [100 + 12 * i for i in range(12)]  # at most 108 px within the 0.6 s window: never 0.2 of 640
    assert _moves(deliberate, jump, dt) == []  # the movement lasted one frame, < 0.2 s
    assert _moves(quick, jump, dt) == [3]  # ... which is quick enough
    deliberate.reset()
    quick.reset()
    assert _moves(deliberate, steady, dt) == [4]  # 160 px + ... passes 0.2 of 640 (128 px) at step 4: 0.27 s
    assert _moves(quick, steady, dt) == []  # moving for 0.27 s when the distance is reached: too slow for quick
    deliberate.reset()
    assert _moves(deliberate, slow, dt) == []
    # a movement that turns back starts afresh: 3 steps back, then 3 steps on are < 0.2 s of movement
    zigzag = [300, 260, 220, 180, 220, 260, 300, 340]
    deliberate.reset()
    assert _moves(deliberate, zigzag, dt) == []
