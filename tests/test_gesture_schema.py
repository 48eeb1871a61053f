"""The gesture-file models and their JSON Schema agree with the loader; hostile files fail fast;
``gestures validate`` reports every error of every file."""

from __future__ import annotations

import argparse
import ast
import json
import re
import textwrap
import time
from pathlib import Path

import jsonschema
import pytest
from pydantic import ValidationError

from gesturekit import ConfigError
from gesturekit.classifiers.rules import (
    MAX_GESTURE_BYTES,
    GestureErrors,
    GestureFile,
    builtin_library_path,
    check_files,
    gesture_json_schema,
    load_definition,
    load_library,
    parse_definition,
)
from gesturekit.util.safeyaml import parse_yaml

REPO = Path(__file__).resolve().parents[1]
SCHEMA = gesture_json_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def _write(tmp_path: Path, text: str, name: str = "g.yaml") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


# ------------------------------------------------------------------------------------------------
# Every gesture definition we have, valid or not: the library, the docs, the tests
# ------------------------------------------------------------------------------------------------


def _examples() -> list[tuple[str, str]]:
    """``(where, yaml text)`` of every gesture definition in the library, the docs and the tests."""
    out = [(p.name, p.read_text()) for p in sorted(builtin_library_path().glob("*.yaml"))]
    for doc in (REPO / "docs" / "gestures.md", REPO / "README.md"):
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", doc.read_text(), re.S)):
            if re.search(r"^gesturekit: 1$", block, re.M):
                out.append((f"{doc.name} block {i}", block))
    for test in ("test_rules_schema.py", "test_rules_classifier.py", "test_gesture_library.py"):
        tree = ast.parse((REPO / "tests" / test).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "gesturekit:" in node.value:
                out.append((f"{test}:{node.lineno}", textwrap.dedent(node.value)))
    return out


EXAMPLES = _examples()

#: Rules the JSON Schema cannot state (they compare numbers of two fields, or values of a set):
#: files that break only these pass the schema and are refused by ``gestures validate``.
NOT_IN_SCHEMA = ("must be >= enter", "must be <= enter", "must be >= within", "must be less than 'below'",
                 "must be at most the window", "must be >= min_duration", "allows every state",
                 "a pose needs at least one condition")


def test_the_schema_is_a_valid_json_schema_with_help_for_every_field():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["title"].startswith("gesturekit gesture definition")
    assert json.loads(json.dumps(SCHEMA)) == SCHEMA  # plain JSON
    objects = [SCHEMA, *SCHEMA["$defs"].values()]
    for obj in objects:
        assert obj.get("additionalProperties") is False, obj.get("title")
        for name, prop in obj["properties"].items():
            assert prop.get("description"), f"{obj.get('title')}.{name} has no description"
    # the top-level fields are those docs/gestures.md lists
    doc = (REPO / "docs" / "gestures.md").read_text()
    table = doc[doc.index("### Top-level fields"):doc.index("### Thresholds")]
    assert set(re.findall(r"^\| `(\w+)` \|", table, re.M)) == set(SCHEMA["properties"])


def test_there_are_many_examples():
    n_builtin = len(list(builtin_library_path().glob("*.yaml")))
    assert sum(1 for where, _ in EXAMPLES if where.endswith(".yaml")) == n_builtin
    assert len(EXAMPLES) > 60


@pytest.mark.parametrize("where, text", EXAMPLES, ids=[w for w, _ in EXAMPLES])
def test_the_schema_agrees_with_the_loader(where, text):
    try:
        data = parse_yaml(text, where)
    except ConfigError:
        return  # not YAML (tabs, duplicate keys, syntax): no schema is involved
    schema_errors = [e.message for e in VALIDATOR.iter_errors(data)]
    try:
        parse_definition(data, where)
    except ConfigError as e:
        errors = e.errors if isinstance(e, GestureErrors) else (e,)
        try:
            GestureFile.model_validate(data)
        except ValidationError:  # a structural error: the schema says so too
            assert schema_errors, f"{where}: the loader refuses it ({e}) but the schema accepts it"
            return
        if all(any(rule in str(err) for rule in NOT_IN_SCHEMA) for err in errors):
            return  # a rule between fields that only the loader checks
        assert schema_errors, f"{where}: the loader refuses it ({e}) but the schema accepts it"
        return
    assert not schema_errors, f"{where}: valid for the loader, but the schema says {schema_errors}"


def test_the_library_validates_against_the_schema():
    for p in sorted(builtin_library_path().glob("*.yaml")):
        VALIDATOR.validate(parse_yaml(p.read_text(), str(p)))
        GestureFile.model_validate(parse_yaml(p.read_text(), str(p)))


def test_the_model_builds_the_same_definitions_as_before():
    # a plain dict (no lines) is validated too; defaults follow the kind
    d = parse_definition({"gesturekit": 1, "name": "flick", "kind": "pulse",
                          "motion": {"window": 0.5, "distance_frame": {"above": 0.2}}})
    assert d.kind == "pulse" and d.temporal.cooldown == 0.3 and d.motion is not None
    assert d.motion.within == 45.0 and d.motion.direction is None
    d = parse_definition({"gesturekit": 1, "name": "x", "pose": {"palm": ["forward", "back"],
                                                                   "directions": {"index": {"is": "up"}}}})
    assert [(c.finger, c.directions, c.within, c.exit) for c in d.poses[0].directions] == [
        ("index", ("up",), 45.0, 45.0), ("palm", ("forward", "back"), 45.0, 45.0)]
    d = parse_definition({"gesturekit": 1, "name": "x", "pose": {"fingers": {"index": "extended"}},
                          "temporal": None, "unless": "fist"})
    assert d.unless == ("fist",) and d.temporal.min_duration == 0.1


@pytest.mark.parametrize("text, message", [
    ("gesturekit: true\nname: x\npose: {fingers: {index: extended}}\n", "unsupported schema version True"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: extended}}\ndescription: 5\n", "expected a string"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: '0'}}\n", "unknown finger state '0'"),
    ("gesturekit: 1\nname: x\npose: {distances: [{between: [wrist, thumb_tip], below: '0.3'}]}\n",
     "expected a number, got a string ('0.3')"),
    ("gesturekit: 1\nname: x\npose: {distances: [{between: [wrist, thumb_tip], below: .inf}]}\n",
     "expected a finite number"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: []}}\n", "expected at least one finger state"),
    ("gesturekit: 1\nname: x\nany_pose: []\n", "expected a non-empty list of poses"),
    ("gesturekit: 1\nname: x\npose: {palm: {is: up, within: 200}}\n", "must be at most 180, got 200"),
    ("gesturekit: 1\nname: x\npose: {palm: {within: 20}}\n", "missing field 'is' (the direction)"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: extended}}\nvalues: {Bad: {between: [wrist, wrist]}}\n",
     "a value name is lower_case letters, digits and _"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: extended}}\nvalues: {v: {relation: distance}}\n",
     "relation values need 'hands: both'"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: extended}}\nvalues: {v: {}}\n",
     "expected exactly one of 'between' (two keypoints) or 'relation'"),
    ("gesturekit: 1\nname: x\npose: {fingers: {index: extended}}\nany_pose: [{fingers: {index: curled}}]\n",
     "use either 'pose' or 'any_pose', not both"),
])
def test_more_errors_keep_their_wording(tmp_path, text, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_definition(_write(tmp_path, text))


def test_several_errors_in_one_file_are_all_reported(tmp_path):
    p = _write(tmp_path, """\
        gesturekit: 1
        name: multi
        hands: three
        pose:
          fingers:
            index: straight
            thumbz: curled
        temporal:
          release: -1
        """)
    with pytest.raises(GestureErrors) as info:
        load_definition(p)
    err = info.value
    assert [(e.line, e.field) for e in err.errors] == [(3, "hands"), (6, "pose.fingers.index"),
                                                       (7, "pose.fingers.thumbz"), (9, "temporal.release")]
    assert str(err).startswith(f"{p}:3: hands: unknown hands 'three'") and str(err).endswith("(and 3 more errors)")
    assert isinstance(err, ConfigError) and (err.file, err.line, err.field) == (str(p), 3, "hands")


# ------------------------------------------------------------------------------------------------
# Hostile files (issue 8, item 3)
# ------------------------------------------------------------------------------------------------


def _bomb(where: str) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ", ".join([f"*{prev}"] * 9) + "]")  # 9**9 strings in all
    body = {"description": "description: *i\npose: {fingers: {index: extended}}",
            "pose": "pose: {fingers: {index: *i}}"}[where]
    return "\n".join(lines) + f"\ngesturekit: 1\nname: bomb\n{body}\n"


@pytest.mark.parametrize("where", ["description", "pose"])
def test_an_alias_bomb_fails_fast_with_one_line(tmp_path, where):
    p = _write(tmp_path, _bomb(where))
    assert p.stat().st_size < 1000
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_definition(p)
    assert time.perf_counter() - t0 < 1.0
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 300 and "alias" in msg and msg.startswith(f"{p}:")
    defs, errors = check_files([p])
    assert defs == [] and len(errors) == 1


def test_a_huge_gesture_file_is_refused_before_it_is_read(tmp_path):
    p = tmp_path / "huge.yaml"
    chunk = "".join(f"k{i}: {i}\n" for i in range(10_000))
    with p.open("w") as f:
        f.write("gesturekit: 1\nname: huge\n")
        for _ in range(440):  # 4.4 M keys, about 52 MB
            f.write(chunk)
    assert p.stat().st_size > 50_000_000
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as info:
        load_definition(p)
    assert time.perf_counter() - t0 < 0.5
    assert str(info.value) == f"{p}: gesture file is {p.stat().st_size:,} bytes; the limit is {MAX_GESTURE_BYTES:,}"


def test_a_file_just_under_the_size_limit_fails_in_bounded_time(tmp_path):
    p = tmp_path / "keys.yaml"
    text = "gesturekit: 1\nname: many\n" + "".join(f"k{i}: {i}\n" for i in range(5_500))
    assert len(text) < MAX_GESTURE_BYTES
    p.write_text(text)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError):
        load_definition(p)
    assert time.perf_counter() - t0 < 3.0


def test_error_messages_never_show_a_big_value(tmp_path):
    big = "y" * 5000
    key = "q" * 1000
    p = _write(tmp_path, f"s: &s {big}\ngesturekit: 1\nname: {big[:1]}\ndescription: [{', '.join(['*s'] * 500)}]\n"
                         f"hands: *s\nmotion: {{window: *s}}\n{key}: 1\npose: {{fingers: {{index: *s}}}}\n")
    defs, errors = check_files([p])
    assert defs == [] and len(errors) >= 5
    for e in errors:
        assert len(str(e)) < len(str(p)) + 250, str(e)[:300]
    assert any("description: expected a string, got a list" in str(e) for e in errors)


# ------------------------------------------------------------------------------------------------
# gesturekit gestures validate (issue 7, item 7)
# ------------------------------------------------------------------------------------------------


def _validate(*argv: str) -> int:
    from gesturekit.cli import gestures_cmd

    parser = argparse.ArgumentParser(prog="gesturekit")
    gestures_cmd.add_parser(parser.add_subparsers())
    args = parser.parse_args(["gestures", "validate", *argv])
    return args.func(args)


def test_validate_reports_every_error_of_every_file(tmp_path, capsys):
    good = _write(tmp_path, "gesturekit: 1\nname: mine\npose: {fingers: {index: extended}}\n", "good.yaml")
    bad1 = _write(tmp_path, "gesturekit: 1\nname: x\nhands: three\npose:\n  fingers:\n    index: straight\n",
                  "bad1.yaml")
    bad2 = _write(tmp_path, "gesturekit: 1\nname: y\nkind: pulse\npose: {fingers: {index: extended}}\n",
                  "bad2.yaml")
    bomb = _write(tmp_path, _bomb("description"), "bomb.yaml")
    assert _validate(str(good), str(bad1), str(bad2), str(bomb)) == 2
    out, err = capsys.readouterr()
    assert out == f"{good}: ok (mine, static, hands: any)\n"
    assert err.splitlines() == [
        f"gesturekit: error: {bad1}:3: hands: unknown hands 'three'; expected one of: any, left, right, both",
        f"gesturekit: error: {bad1}:6: pose.fingers.index: unknown finger state 'straight'; expected one of: "
        "extended, half, curled",
        f"gesturekit: error: {bad2}:3: kind: a 'pulse' gesture needs a 'motion'",
        f"gesturekit: error: {bomb}:1: the document expands to more than 10,000 values (YAML aliases used too "
        "often: an 'alias bomb'?); refused",
    ]
    assert _validate(str(good)) == 0


def test_validate_refuses_a_builtin_name_naming_both_files(tmp_path, capsys):
    p = _write(tmp_path, "gesturekit: 1\nname: fist\npose: {fingers: {index: extended}}\n", "fist.yaml")
    assert _validate(str(p)) == 2
    out, err = capsys.readouterr()
    builtin = builtin_library_path() / "fist.yaml"
    assert out == ""
    assert err.strip() == (f"gesturekit: error: {p}:1: name: duplicate gesture name 'fist': the built-in library "
                           f"defines it ({builtin}:1); rename yours, or set 'builtin: false' to replace the built-in "
                           "library")
    assert _validate(str(p), "--with-builtin") == 2
    capsys.readouterr()
    # as a library of its own (builtin: false) the name is free
    assert _validate(str(p), "--no-builtin") == 0
    assert capsys.readouterr().out == f"{p}: ok (fist, static, hands: any)\n"
    # load_library says the same as validate
    with pytest.raises(ConfigError, match="duplicate gesture name 'fist': the built-in library defines it"):
        load_library([p])


def test_validate_checks_unless_and_the_builtin_folder(tmp_path, capsys):
    # unless may name a built-in gesture, as the classifier loads the library too
    a = _write(tmp_path, "gesturekit: 1\nname: a\npose: {fingers: {index: extended}}\nunless: [fist, b]\n", "a.yaml")
    b = _write(tmp_path, "gesturekit: 1\nname: b\npose: {fingers: {index: straight}}\n", "b.yaml")
    assert _validate(str(a), str(b)) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "unknown finger state 'straight'" in err[0]  # 'b' is not also an unknown name
    c = _write(tmp_path, "gesturekit: 1\nname: c\npose: {fingers: {index: extended}}\nunless: [nothing]\n", "c.yaml")
    assert _validate(str(c)) == 2
    assert "unknown gesture 'nothing' referenced" in capsys.readouterr().err
    # the built-in library checked as files is not a clash with itself
    assert _validate(str(builtin_library_path())) == 0
    assert len(capsys.readouterr().out.splitlines()) == len(list(builtin_library_path().glob("*.yaml")))


def test_validate_through_the_command_line(cli, tmp_path):
    bad = _write(tmp_path, "gesturekit: 1\nname: x\nhands: three\npose:\n  fingers:\n    index: straight\n")
    clash = _write(tmp_path, "gesturekit: 1\nname: ok\npose: {fingers: {index: extended}}\n", "ok.yaml")
    r = cli("gestures", "validate", bad, clash)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("gesturekit: error: ") for line in lines)
    assert "duplicate gesture name 'ok': the built-in library defines it" in lines[2]
