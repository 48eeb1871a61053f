"""The one chain: folders in data-flow order, one settings model for Python/YAML/CLI, hooks
through pluggy (tracing, wrappers, return values checked), the same events from every front end."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import typing
from pathlib import Path

import jsonschema
import pytest
from peers import real_clip_recording
from shared_data import REPO, data_file

from gesturekit import ConfigError, Detection, Frame, Hand, PluginError, hookimpl
from gesturekit.chain.pipeline import Pipeline
from gesturekit.chain.plugin_manager import get_plugin_manager
from gesturekit.cli import build_parser
from gesturekit.cli.common import settings_from_args, tracker_flag
from gesturekit.settings import settings_from_mapping
from gesturekit.tracking import TrackerOptions

PKG = REPO / "gesturekit"

# Stages in data-flow order; a module may import its own stage and earlier ones only.
# ``learn`` (datasets, features and models of learned classifiers) sits beside the rule classifiers;
# ``render`` (drawing frames) serves the observers and front ends after the sinks.
STAGES = ["core", "sources", "tracking", "features", "classifiers", "learn", "temporal", "bus", "sinks", "render",
          "settings", "chain", "daemon", "cli"]
CORE = {"values", "_exceptions", "hookspecs", "util"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(REPO).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _stage(mod: str) -> str | None:
    parts = mod.split(".")
    if parts[0] != "gesturekit":
        return None
    if len(parts) == 1 or not ((PKG / parts[1]).is_dir() or (PKG / f"{parts[1]}.py").exists()):
        return "facade"  # `from gesturekit import X`: the public facade
    if mod == "gesturekit.settings.plugin_options" or mod.startswith("gesturekit.settings.plugin_options."):
        return "core"  # the base of every options model: it needs only the errors
    if parts[1] == "__main__":
        return "cli"
    return "core" if parts[1] in CORE else parts[1]


def _imports(path: Path, top_level_only: bool = False) -> set[str]:
    tree = ast.parse(path.read_text())
    mod = _module_name(path)
    pkg = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
    nodes = tree.body if top_level_only else ast.walk(tree)
    out = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split(".")[: len(pkg.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.add(target)
            out.update(f"{target}.{a.name}" for a in node.names)  # `from pkg import module`
    return out


MODULES = sorted(p for p in PKG.rglob("*.py"))


def test_no_stage_imports_a_later_stage_and_nothing_imports_first_party_plugins():
    bad = []
    for path in MODULES:
        mod = _module_name(path)
        here = _stage(mod)
        for target in _imports(path):
            if target.split(".")[0] == "gesturekit_plugins":
                bad.append(f"{mod} imports {target}")
            there = _stage(target)
            if here == "facade" or there in (None, "facade"):
                continue
            if there not in STAGES or here not in STAGES:
                bad.append(f"{mod} ({here}) imports {target} ({there}): a folder outside the stages")
            elif STAGES.index(there) > STAGES.index(here):
                bad.append(f"{mod} ({here}) imports the later stage {target} ({there})")
    assert bad == []


def test_no_import_cycles_between_modules():
    known = {_module_name(p): p for p in MODULES}
    graph = {m: {t for t in _imports(p, top_level_only=True) if t in known and t != m} for m, p in known.items()}
    state: dict[str, int] = {}
    cycles = []

    def visit(m: str, trail: list[str]) -> None:
        state[m] = 1
        for t in graph[m]:
            if state.get(t) == 1 and not (t == "gesturekit" or m.startswith(t + ".")):
                cycles.append(" -> ".join([*trail, m, t]))
            elif t not in state:
                visit(t, [*trail, m])
        state[m] = 2

    for m in graph:
        if m not in state:
            visit(m, [])
    assert cycles == []


# --- one settings model ------------------------------------------------------------------------


def _other_value(name: str, field) -> object:
    ann = field.annotation
    args = [a for a in typing.get_args(ann) if a is not type(None)]
    if name == "model":
        return "lite"
    if ann is bool or args == [bool]:
        return not field.default if field.default is not None else True
    lits = list(typing.get_args(ann)) if typing.get_origin(ann) is typing.Literal else \
        [a for a in (typing.get_args(args[0]) if args else ())]
    if lits:
        return next(v for v in lits if v != field.default)
    if ann is int:
        return 1 if field.default != 1 else 2
    if ann is float:
        return 0.25 if field.default != 0.25 else 0.5
    raise AssertionError(f"no test value for tracker option {name} ({ann})")


@pytest.mark.parametrize("name", list(TrackerOptions.model_fields))
def test_every_tracker_option_can_be_set_from_yaml_and_from_the_cli(name, tmp_path):
    field = TrackerOptions.model_fields[name]
    value = _other_value(name, field)
    assert value != field.default
    img = str(data_file("tracking/hands.jpg"))
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"source: {img}\ntracker:\n  {name}: {json.dumps(value)}\n")
    from gesturekit.settings import load_settings

    assert getattr(load_settings(cfg).tracker, name) == value
    flag = tracker_flag(name)
    argv = ["run", "--source", img]
    argv += ([flag] if value is True else [f"--no-{flag[2:]}"]) if isinstance(value, bool) else [flag, str(value)]
    args = build_parser().parse_args(argv)
    assert getattr(settings_from_args(args).tracker, name) == value
    # a flag overrides the config
    args = build_parser().parse_args([*argv, "--config", str(cfg)])
    assert getattr(settings_from_args(args).tracker, name) == value


def test_config_errors_are_one_line_with_file_line_and_field(tmp_path):
    img = str(data_file("tracking/hands.jpg"))
    cases = {
        "tracker:\n  smoothing_beta: -1\n": (3, "tracker.smoothing_beta"),
        "sinks:\n  a: {type: stdout}\nsinks:\n  b: {type: stdout}\n": (4, "sinks"),
        "plugins:\n  no_such_plugin: {x: 1}\n": (3, "plugins.no_such_plugin"),
        "classifiers:\n  c: {type: nosuch}\n": (3, "classifiers.c.type"),
        "sinks:\n  o: {type: stdout, colour: red}\n": (3, "sinks.o.colour"),
    }
    from gesturekit.chain.builder import Chain
    from gesturekit.settings import load_settings

    for body, (line, field) in cases.items():
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f"source: {img}\n{body}")
        with pytest.raises(ConfigError) as ei:
            Chain(load_settings(cfg))
        e = ei.value
        assert (e.file, e.line, e.field) == (str(cfg), line, field), (body, str(e))
        assert "\n" not in str(e)


# --- hooks through pluggy ----------------------------------------------------------------------


def _frame() -> Frame:
    kp = json.loads(data_file("tracking/asl_hand.full.json").read_text())[0]
    kp3 = json.loads(data_file("tracking/asl_hand_3d.full.json").read_text())[0]
    return Frame(index=0, t=0.0, width=620, height=1080, source="x",
                 hands=[Hand(1, "left", 0.9, 0.9, [p[:2] for p in kp], kp3)])


@pytest.fixture
def pm():
    return get_plugin_manager(entrypoints=False, builtins=False)


def test_a_wrapper_implementation_runs_and_sees_the_results(pm):
    class Good:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("inner")]

    class Wrapper:
        @hookimpl(wrapper=True)
        def gesturekit_classify(self, frame):
            results = yield
            return [*results, [Detection(f"wrapped_{len(results)}")]]

    pm.register(Good(), name="good")
    pm.register(Wrapper(), name="wrapper")
    with Pipeline(pm) as pipe:
        assert [d.gesture for d in pipe.classify(_frame())] == ["inner", "wrapped_1"]


def test_a_failing_wrapper_is_isolated_and_an_old_style_wrapper_is_refused(pm):
    class Good:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("inner")]

    class Broken:
        @hookimpl(wrapper=True)
        def gesturekit_classify(self, frame):
            yield
            raise RuntimeError("after yield")

    class Old:
        @hookimpl(hookwrapper=True)
        def gesturekit_classify(self, frame):
            yield

    pm.register(Good(), name="good")
    pm.register(Broken(), name="broken")
    with Pipeline(pm) as pipe:
        assert [d.gesture for d in pipe.classify(_frame())] == ["inner"]
    assert pm.failures.errors == {"broken": 1}
    with pytest.raises(PluginError, match="old hookwrapper=True") as ei:
        pm.register(Old(), name="old")
    assert "\n" not in str(ei.value) and pm.get_plugin("old") is None


GARBAGE = ["x", 42, [1], [None], [{}], Detection("ok"), {"a": 1}, [Detection("stray", hands=(99,))]]


def test_a_plugin_returning_garbage_or_exiting_is_a_failing_plugin_not_a_crash(pm):
    class Good:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("good")]

    class Garbage:
        n = 0

        @hookimpl
        def gesturekit_classify(self, frame):
            self.n += 1
            if self.n > len(GARBAGE):
                raise SystemExit(3)
            return GARBAGE[self.n - 1]

    class BadValues:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("v", values={"x": "str"})]

    pm.register(Good(), name="good")
    pm.register(Garbage(), name="garbage")
    pm.register(BadValues(), name="bad-values")
    with Pipeline(pm) as pipe:
        for _ in range(len(GARBAGE) + 1):
            assert [d.gesture for d in pipe.classify(_frame())] == ["good"]
    assert pm.failures.errors["garbage"] == len(GARBAGE) + 1
    assert pm.failures.errors["bad-values"] == len(GARBAGE) + 1
    assert "good" not in pm.failures.errors


def test_trace_shows_every_classify_call(tmp_path):
    env = {**os.environ, "GESTUREKIT_TRACE_PLUGINS": "1"}
    r = subprocess.run([sys.executable, "-m", "gesturekit", "detect", str(data_file("tracking/hands.jpg")),
                        str(data_file("tracking/thumbs-up.png"))], capture_output=True, text=True, env=env,
                       cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("gesturekit_classify [hook]") == 2
    assert "gesturekit_startup [hook]" in r.stderr


# --- the same events from every front end ------------------------------------------------------


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_run_and_daemon_over_one_config_give_equal_events(tmp_path):
    rec = real_clip_recording()
    for name in ("run", "daemon"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "c.yaml").write_text(
            f"source: {rec}\nsinks:\n  out: {{type: jsonl, path: events.jsonl}}\nhealth: {{port: 0}}\n"
            "temporal: {hold_interval: 0.25}\n")
    for name in ("run", "daemon"):
        r = subprocess.run([sys.executable, "-m", "gesturekit", name, "--config", str(tmp_path / name / "c.yaml")],
                           capture_output=True, text=True, cwd=REPO, timeout=300)
        assert r.returncode == 0, r.stderr
    a, b = _jsonl(tmp_path / "run" / "events.jsonl"), _jsonl(tmp_path / "daemon" / "events.jsonl")
    assert len(a) > 10 and {e["phase"] for e in a} >= {"start", "hold", "end"}
    assert a == b


def test_still_images_give_start_and_end_through_the_daemon_too(tmp_path):
    img = data_file("tracking/thumbs-up.png")
    (tmp_path / "c.yaml").write_text(f"source: {img}\nsinks:\n  out: {{type: jsonl, path: e.jsonl}}\n"
                                     "health: {enabled: false}\n")
    r = subprocess.run([sys.executable, "-m", "gesturekit", "daemon", "--config", str(tmp_path / "c.yaml")],
                       capture_output=True, text=True, cwd=REPO, timeout=300)
    assert r.returncode == 0, r.stderr
    got = [(e["gesture"], e["phase"], e["source"]) for e in _jsonl(tmp_path / "e.jsonl")]
    assert got == [("thumbs_up", "start", "thumbs-up.png"), ("thumbs_up", "end", "thumbs-up.png")]


# --- schemas -----------------------------------------------------------------------------------


def test_schemas_validate_every_example_config_and_library_gesture():
    from gesturekit.chain.schema import config_json_schema
    from gesturekit.classifiers.rules import builtin_library_path, gesture_json_schema
    from gesturekit.util.safeyaml import load_yaml_file

    config_schema = config_json_schema(get_plugin_manager())
    jsonschema.Draft202012Validator.check_schema(config_schema)
    configs = sorted(p for p in (REPO / "examples").rglob("daemon.yaml"))
    assert len(configs) >= 3
    for p in configs:
        jsonschema.validate(json.loads(json.dumps(load_yaml_file(p))), config_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"source": 0, "sinks": {"ws": {"type": "websocket", "prot": 1}}}, config_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"source": 0, "tracker": {"max_hands": 9}}, config_schema)
    gesture_schema = gesture_json_schema()
    files = sorted(Path(builtin_library_path()).glob("*.yaml"))
    assert len(files) >= 10
    for p in files:
        jsonschema.validate(json.loads(json.dumps(load_yaml_file(p))), gesture_schema)


def test_schema_command_prints_both_schemas():
    for what, title in (("config", "gesturekit config"), ("gesture", "gesture")):
        r = subprocess.run([sys.executable, "-m", "gesturekit", "schema", what], capture_output=True, text=True,
                           cwd=REPO, timeout=120)
        assert r.returncode == 0, r.stderr
        assert title in json.loads(r.stdout)["title"]


def test_settings_from_python_equal_settings_from_yaml(tmp_path):
    img = str(data_file("tracking/hands.jpg"))
    (tmp_path / "c.yaml").write_text(f"source: {img}\ntracker: {{model: lite, max_hands: 1}}\n")
    from gesturekit.settings import load_settings

    a = load_settings(tmp_path / "c.yaml")
    b = settings_from_mapping({"source": img, "tracker": TrackerOptions(model="lite", max_hands=1).model_dump()})
    assert a.tracker == b.tracker and a.source == b.source
