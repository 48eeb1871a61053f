"""The YAML gesture schema: valid files load; every invalid case names file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from gesturekit import ConfigError
from gesturekit.classifiers.rules import builtin_library_path, load_definition, load_definitions, load_library
from gesturekit.temporal import TemporalSpec

VALID = """\
gesturekit: 1
name: my_pinch
description: thumb and index together
hands: right
pose:
  fingers:
    index: [extended, half]
  directions:
    index: {is: [up, forward], within: 40, exit: 50}
  palm: forward
  distances:
    - between: [thumb_tip, index_finger_tip]
      below: {enter: 0.3, exit: 0.4}
  angles:
    - between: [index, middle]
      above: 10
values:
  gap:
    between: [thumb_tip, index_finger_tip]
temporal:
  min_duration: 0.2
  cooldown: 1
"""


def _write(tmp_path: Path, text: str, name: str = "g.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def _error(tmp_path: Path, text: str, name: str = "g.yaml") -> ConfigError:
    p = _write(tmp_path, text, name)
    with pytest.raises(ConfigError) as info:
        load_definitions([p])
    err = info.value
    assert err.file == str(p)
    assert str(err).startswith(f"{p}:")
    return err


def test_a_valid_definition_loads_with_all_parts(tmp_path):
    d = load_definition(_write(tmp_path, VALID))
    assert d.name == "my_pinch" and d.hands == "right" and d.kind == "static"
    pose = d.poses[0]
    assert pose.fingers == {"index": ("extended", "half")}
    assert [(c.finger, c.directions, c.within, c.exit) for c in pose.directions] == [
        ("index", ("up", "forward"), 40.0, 50.0), ("palm", ("forward",), 45.0, 45.0)]
    assert pose.distances[0].a == "thumb_tip" and pose.distances[0].threshold.below_enter == 0.3
    assert pose.distances[0].threshold.below_exit == 0.4
    assert pose.angles[0].threshold.above_enter == 10
    assert d.values[0].name == "gap" and d.values[0].between == ("thumb_tip", "index_finger_tip")
    assert d.temporal == TemporalSpec(min_duration=0.2, cooldown=1.0)


def test_motion_with_frame_distance_and_duration_loads(tmp_path):
    d = load_definition(_write(tmp_path, """\
        gesturekit: 1
        name: flick
        kind: pulse
        pose: {fingers: {index: extended}}
        motion:
          window: 0.5
          direction: up
          distance_frame: {above: 0.2}
          min_duration: 0.1
          max_duration: 0.4
        """))
    m = d.motion
    assert m is not None and m.distance_frame.above_enter == 0.2 and (m.min_duration, m.max_duration) == (0.1, 0.4)
    assert m.has_duration and not m.distance.describe()
    # a motion alone (no pose) is a condition; an explicit any direction too
    d = load_definition(_write(tmp_path, "gesturekit: 1\nname: move\nkind: pulse\nmotion: {window: 0.3, "
                                         "distance: {above: 1}}\n", "m.yaml"))
    assert d.motion is not None and not d.motion.has_duration and d.poses[0] == d.poses[0].__class__()


def test_the_builtin_library_loads_and_has_the_public_names():
    defs = load_library()
    names = {d.name for d in defs}
    assert names == {"open_palm", "fist", "thumbs_up", "thumbs_down", "victory", "pointing_up", "i_love_you", "ok",
                     "call", "rock", "three", "four", "pinch", "swipe_left", "swipe_right", "swipe_up", "swipe_down",
                     "zoom_in", "zoom_out", "stop", "two_up"}
    kinds = {d.name: (d.kind, d.hands) for d in defs}
    assert all(kinds[f"swipe_{x}"] == ("pulse", "any") for x in ("left", "right", "up", "down"))
    assert kinds["zoom_in"] == kinds["zoom_out"] == ("static", "both")
    # one file per gesture, named after it
    assert sorted(p.stem for p in builtin_library_path().glob("*.yaml")) == sorted(names)
    assert all(d.description for d in defs)


@pytest.mark.parametrize("text, line, field, message", [
    # missing fields
    ("gesturekit: 1\ndescription: x\n", 1, "name", "missing field 'name'"),
    ("name: x\n", 1, "gesturekit", "missing field 'gesturekit'"),
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  direction: left\n  distance: {above: 1}\n", 4,
     "motion.window", "missing field 'window'"),
    ("gesturekit: 1\nname: x\npose:\n  distances:\n    - below: 0.3\n", 5, "pose.distances[0].between",
     "missing field 'between'"),
    # wrong types
    ("gesturekit: 1\nname: 12\n", 2, "name", "expected a string, got a number"),
    ("gesturekit: 1\nname: x\npose:\n  distances:\n    - between: [thumb_tip, index_finger_tip]\n"
     "      below: near\n", 6, "pose.distances[0].below", "expected a number, got a string"),
    ("gesturekit: 1\nname: x\npose: [1, 2]\n", 3, "pose", "expected a mapping, got a list"),
    ("gesturekit: 1\nname: x\ntemporal:\n  release: -1\n", 4, "temporal.release", "must be at least 0"),
    ("gesturekit: 1\nname: x\ntemporal:\n  release: true\n", 4, "temporal.release", "expected a number"),
    # unknown names
    ("gesturekit: 1\nname: x\npose:\n  fingers:\n    index: extended\n    thumbz: curled\n", 6,
     "pose.fingers.thumbz", "unknown finger 'thumbz'"),
    ("gesturekit: 1\nname: x\npose:\n  fingers:\n    index: straight\n", 5, "pose.fingers.index",
     "unknown finger state 'straight'"),
    ("gesturekit: 1\nname: x\npose:\n  distances:\n    - between:\n        - thumb_tip\n        - index_tipp\n"
     "      below: 0.3\n", 7, "pose.distances[0].between[1]", "unknown keypoint 'index_tipp'"),
    ("gesturekit: 1\nname: x\npose:\n  directions:\n    index: upward\n", 5, "pose.directions.index",
     "unknown direction 'upward'"),
    ("gesturekit: 1\nname: x\nhands: three\n", 3, "hands", "unknown hands 'three'"),
    ("gesturekit: 1\nname: x\nposture: {}\n", 3, "posture", "unknown field 'posture'"),
    ("gesturekit: 2\nname: x\n", 1, "gesturekit", "unsupported schema version 2"),
    # threshold order (hysteresis) and impossible ranges
    ("gesturekit: 1\nname: x\npose:\n  distances:\n    - between: [thumb_tip, index_finger_tip]\n"
     "      below: {enter: 0.4, exit: 0.3}\n", 6, "pose.distances[0].below.exit", "exit (0.3) must be >= enter (0.4)"),
    ("gesturekit: 1\nname: x\nhands: both\nrelation:\n  change:\n    above:\n      enter: 0.5\n      exit: 0.9\n",
     8, "relation.change.above.exit", "exit (0.9) must be <= enter (0.5)"),
    ("gesturekit: 1\nname: x\npose:\n  directions:\n    index: {is: up, within: 40, exit: 30}\n", 5,
     "pose.directions.index.exit", "exit (30) must be >= within (40)"),
    ("gesturekit: 1\nname: x\npose:\n  angles:\n    - between: [index, middle]\n      below: 10\n      above: 20\n",
     5, "pose.angles[0]", "'above' (20) must be less than 'below' (10)"),
    # structure
    ("gesturekit: 1\nname: x\nkind: pulse\n", 3, "kind", "a 'pulse' gesture needs a 'motion'"),
    ("gesturekit: 1\nname: x\nrelation:\n  change: {above: 1}\n", 3, "relation", "'relation' needs 'hands: both'"),
    ("gesturekit: 1\nname: x\nname: y\n", 3, "name", "duplicate key"),
    ("gesturekit: 1\nname: Bad-Name\n", 2, "name", "invalid name 'Bad-Name'"),
    # no condition at all: it would hold on every hand
    ("gesturekit: 1\nname: x\n", 1, "pose", "the gesture has no condition and would hold on every hand; expected "
     "'pose' (or 'any_pose'), 'motion' or 'relation'"),
    ("gesturekit: 1\nname: x\nhands: left\ndescription: anything\n", 1, "pose", "has no condition"),
    ("gesturekit: 1\nname: x\npose: {}\n", 3, "pose", "a pose needs at least one condition: expected 'fingers', "
     "'directions', 'palm', 'distances' or 'angles' (an empty pose would hold on every hand)"),
    ("gesturekit: 1\nname: x\npose:\n  fingers: {}\n  distances: []\n", 3, "pose",
     "a pose needs at least one condition"),
    ("gesturekit: 1\nname: x\nany_pose:\n  - fingers: {index: extended}\n  - {}\n", 5, "any_pose[1]",
     "a pose needs at least one condition"),
    ("gesturekit: 1\nname: x\npose:\n  fingers:\n    index: [extended, half, curled]\n", 5, "pose.fingers.index",
     "finger 'index' allows every state, so this condition always holds"),
    # motion: frame-unit distance and duration
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  window: 0.4\n  distance_frame: far\n", 6,
     "motion.distance_frame", "expected a mapping, got a string"),
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  window: 0.4\n  distance_frame: {above: 0.3}\n"
     "  min_duration: 0.5\n", 7, "motion.min_duration",
     "min_duration (0.5) must be at most the window (0.4): the movement is measured within the window"),
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  window: 0.4\n  distance_frame: {above: 0.3}\n"
     "  min_duration: 0.2\n  max_duration: 0.1\n", 8, "motion.max_duration",
     "max_duration (0.1) must be >= min_duration (0.2)"),
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  window: 0.4\n  distance: {above: 1}\n"
     "  max_duration: -1\n", 7, "motion.max_duration", "must be at least 0, got -1"),
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  window: 0.4\n  min_duration: 0.1\n", 4, "motion",
     "a motion needs 'distance' (palm units), 'distance_frame' (fraction of the image width) and/or 'speed'"),
    ("gesturekit: 1\nname: x\nkind: pulse\nmotion:\n  window: 0.4\n  duration: 0.1\n", 6, "motion.duration",
     "unknown field 'duration'; expected one of: window, direction, within, distance, distance_frame, speed, "
     "min_duration, max_duration"),
])
def test_invalid_definitions_name_file_line_and_field(tmp_path, text, line, field, message):
    err = _error(tmp_path, text)
    assert err.line == line, str(err)
    assert err.field == field, str(err)
    assert message in str(err)
    assert f":{line}: {field}: " in str(err)


def test_tabs_in_indentation(tmp_path):
    err = _error(tmp_path, "gesturekit: 1\nname: x\npose:\n\tfingers: {}\n")
    assert err.line == 4
    assert "tab character" in str(err) and "spaces" in str(err)


def test_broken_yaml_syntax_names_the_line(tmp_path):
    err = _error(tmp_path, "gesturekit: 1\nname: x\npose:\n  fingers: [index\n")
    assert err.line is not None and err.line >= 4
    assert "not valid YAML" in str(err)


def test_unsafe_yaml_tags_are_refused(tmp_path):
    err = _error(tmp_path, "gesturekit: 1\nname: !!python/object/apply:os.system ['echo hi']\n")
    assert err.line == 2 and "not valid YAML" in str(err)


def test_empty_file(tmp_path):
    err = _error(tmp_path, "")
    assert "empty" in str(err)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_definitions([tmp_path / "nope.yaml"])


def test_duplicate_names_across_files(tmp_path):
    a = _write(tmp_path, "gesturekit: 1\nname: same\npose: {fingers: {index: extended}}\n", "a.yaml")
    b = _write(tmp_path, "\n\ngesturekit: 1\nname: same\npose: {fingers: {index: extended}}\n", "b.yaml")
    with pytest.raises(ConfigError) as info:
        load_definitions([a, b])
    err = info.value
    assert err.file == str(b) and err.line == 3 and err.field == "name"
    assert f"duplicate gesture name 'same' (also defined in {a}:1)" in str(err)


def test_a_user_file_may_not_reuse_a_builtin_name(tmp_path):
    p = _write(tmp_path, "gesturekit: 1\nname: fist\npose: {fingers: {index: extended}}\n")
    with pytest.raises(ConfigError, match="duplicate gesture name 'fist'"):
        load_library([p])


def test_unknown_gesture_referenced(tmp_path):
    p = _write(tmp_path, "gesturekit: 1\nname: x\npose:\n  fingers: {index: extended}\nunless: [fist, nothing]\n")
    with pytest.raises(ConfigError) as info:
        load_library([p])
    err = info.value
    assert (err.file, err.line, err.field) == (str(p), 5, "unless")
    assert "unknown gesture 'nothing' referenced" in str(err)
    # the same file against the built-in library knows 'fist' but still not 'nothing'
    q = _write(tmp_path, "gesturekit: 1\nname: x\npose: {fingers: {index: extended}}\nunless: fist\n", "ok.yaml")
    assert load_library([q])[-1].unless == ("fist",)


def test_unless_cycles_are_refused(tmp_path):
    a = _write(tmp_path, "gesturekit: 1\nname: a\npose: {fingers: {index: extended}}\nunless: [b]\n", "a.yaml")
    b = _write(tmp_path, "gesturekit: 1\nname: b\npose: {fingers: {index: extended}}\nunless: [a]\n", "b.yaml")
    with pytest.raises(ConfigError, match=r"cycle: a -> b -> a"):
        load_definitions([a, b])
