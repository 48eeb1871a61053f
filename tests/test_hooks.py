"""Every hook in gesturekit/hookspecs.py: behaviour, documentation, factories, fault isolation."""

from __future__ import annotations

import inspect
import json
import logging
import re
import shutil
import subprocess
import sys
from functools import cache

import pytest
from shared_data import REPO, data_file

import gesturekit
from gesturekit import Detection, Frame, GestureEvent, Hand, PluginError, hookimpl, hookspecs
from gesturekit.chain.pipeline import Pipeline
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
from gesturekit.sources import SourceItem
from gesturekit.sources.recording import FrameWriter, ReplaySource

HOOK_NAMES = sorted(n for n, f in vars(hookspecs).items()
                    if n.startswith("gesturekit_") and inspect.isfunction(f))


@cache
def _golden() -> tuple[list, list]:
    kp = json.loads(data_file("tracking/asl_hand.full.json").read_text())
    kp3 = json.loads(data_file("tracking/asl_hand_3d.full.json").read_text())
    return kp, kp3


def real_frame(index: int = 0, hands: int = 1) -> Frame:
    """A Frame of the ASL clip built from its golden MediaPipe landmarks (no tracker needed).

    With ``hands=2`` a second hand (the same hand 200 px to the left) is added."""
    kp, kp3 = _golden()
    xy = [p[:2] for p in kp[index]]
    found = [Hand(1, "left", 0.98, 0.98, xy, kp3[index])]
    if hands == 2:
        found.append(Hand(2, "right", 0.9, 0.9, [[x - 200, y] for x, y in xy], kp3[index]))
    return Frame(index=index, t=index / 25, width=620, height=1080, source="asl_hand.25fps.mp4", hands=found)


@pytest.fixture
def pm():
    """A plugin manager without built-in or installed plugins: the tests decide what is registered."""
    return get_plugin_manager(entrypoints=False, builtins=False)


# ---------------------------------------------------------------------------------------------
# One test per hook
# ---------------------------------------------------------------------------------------------


def test_hook_gesturekit_register_classifiers(pm):
    class WristLow:
        def __init__(self, config):
            self.min_y = config.get("min_y", 0.5)

        def classify(self, frame):
            return [Detection("wrist_low", hands=(h.track_id,)) for h in frame.hands
                    if h.keypoint("wrist")[1] > self.min_y * frame.height]

    class Plugin:
        @hookimpl
        def gesturekit_register_classifiers(self):
            return {"wrist_low": WristLow}

    pm.register(Plugin(), name="wrist-low-plugin")
    try:
        factories = collect_factories(pm, "classifiers")
        assert list(factories) == ["wrist_low"]
        frame = real_frame(0)  # the wrist is at y = 656 of 1080
        with Pipeline(pm, classifiers={"low": factories["wrist_low"]({"min_y": 0.5})}) as pipe:
            assert [d.gesture for d in pipe.process(frame).detections] == ["wrist_low"]
        with Pipeline(pm, classifiers={"low": factories["wrist_low"]({"min_y": 0.7})}) as pipe:
            assert pipe.process(frame).detections == []
    finally:
        pm.unregister(name="wrist-low-plugin")
    assert collect_factories(pm, "classifiers") == {}


def test_hook_gesturekit_register_sinks(pm):
    class ListSink:
        def __init__(self, config):
            self.events, self.prefix = [], config["prefix"]

        def send(self, event):
            self.events.append(self.prefix + event.gesture)

    class Plugin:
        @hookimpl
        def gesturekit_register_sinks(self):
            return {"list": ListSink}

    pm.register(Plugin(), name="list-sink-plugin")
    try:
        factories = collect_factories(pm, "sinks")
        assert factories == {"list": ListSink}
        sink = factories["list"]({"prefix": "got:"})
        sink.send(GestureEvent("fist", "start", t=0.0, seq=0))
        assert sink.events == ["got:fist"]
    finally:
        pm.unregister(name="list-sink-plugin")
    assert collect_factories(pm, "sinks") == {}


def test_hook_gesturekit_register_sources(pm, tmp_path):
    class GoldenSource:
        """Frames of the golden ASL landmarks: a source that needs neither camera nor tracker."""

        live, mode = False, "video"

        def __init__(self, config):
            self.name, self.count = "golden", config.get("frames", 3)

        def __iter__(self):
            for i in range(self.count):
                yield SourceItem(i, i / 25, frame=real_frame(i))

        def close(self):
            pass

    class Plugin:
        @hookimpl
        def gesturekit_register_sources(self):
            return {"golden": GoldenSource}

    pm.register(Plugin(), name="golden-source-plugin")
    try:
        source = collect_factories(pm, "sources")["golden"]({"frames": 4})
        with Pipeline(pm) as pipe:
            results = list(pipe.run(source))
        assert [r.frame.index for r in results] == [0, 1, 2, 3]
        assert results[3].frame == real_frame(3)
    finally:
        pm.unregister(name="golden-source-plugin")


def test_hook_gesturekit_register_observers(pm, tmp_path):
    from gesturekit import PluginOptions, options
    from gesturekit.chain.builder import Chain
    from gesturekit.settings import settings_from_mapping

    seen = []

    class EveryOptions(PluginOptions):
        every: int = 1

    @options(EveryOptions)
    class Collect:
        def __init__(self, opts):
            self.every = opts.every

        def observe(self, frame, detections):
            if frame.index % self.every == 0:
                seen.append((frame.index, len(frame.hands)))

    class Plugin:
        @hookimpl
        def gesturekit_register_observers(self):
            return {"collect": Collect}

    pm.register(Plugin(), name="collect-plugin")
    rec = tmp_path / "rec.jsonl"
    with FrameWriter(str(rec)) as w:
        for i in range(6):
            w.write(real_frame(i))
    settings = settings_from_mapping({"source": str(rec), "observers": {"c": {"type": "collect", "every": 2}}})
    with Chain(settings, pm=pm) as chain:
        list(chain.run())
    assert seen == [(0, 1), (2, 1), (4, 1)]
    bad = settings_from_mapping({"source": str(rec), "observers": {"c": {"type": "collect", "evry": 2}}})
    with pytest.raises(gesturekit.ConfigError, match=r"observers\.c\.evry: unknown setting"):
        Chain(bad, pm=pm)


def test_hook_gesturekit_configure(pm):
    seen = {}

    class Plugin:
        # Opt-in arguments: this implementation takes only the argument it needs.
        @hookimpl
        def gesturekit_configure(self, plugin_config):
            seen.update(plugin_config.get("mine", {}))

    class Both:
        @hookimpl
        def gesturekit_configure(self, config, plugin_config):
            seen["source"] = config["source"]

    pm.register(Plugin(), name="mine")
    pm.register(Both(), name="both")
    try:
        assert pm.hook.gesturekit_configure(config={"source": "0"},
                                            plugin_config={"mine": {"threshold": 0.7}, "other": {"x": 1}}) == []
        assert seen == {"threshold": 0.7, "source": "0"}
    finally:
        pm.unregister(name="mine")
        pm.unregister(name="both")


LIFECYCLE_PLUGIN = '''
from gesturekit import hookimpl

LOG = {log!r}


def note(text):
    with open(LOG, "a") as f:
        f.write(text + "\\n")


@hookimpl
def gesturekit_startup():
    note("startup")


@hookimpl
def gesturekit_frame(frame):
    note(f"frame {{frame.index}}")


@hookimpl
def gesturekit_shutdown():
    note("shutdown")
'''


def _run_with_lifecycle_plugin(tmp_path, frames: int) -> list[str]:
    rec = tmp_path / "golden.jsonl"
    with FrameWriter(str(rec)) as w:
        for i in range(frames):
            w.write(real_frame(i))
    log = tmp_path / "log.txt"
    plugin = tmp_path / "lifecycle.py"
    plugin.write_text(LIFECYCLE_PLUGIN.format(log=str(log)))
    proc = subprocess.run([sys.executable, "-m", "gesturekit", "run", "--source", str(rec), "--plugin-path",
                           str(plugin)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 0, proc.stderr
    return log.read_text().splitlines()


def test_hook_gesturekit_startup(pm, tmp_path):
    calls = []

    class Plugin:
        @hookimpl
        def gesturekit_startup(self):
            calls.append("startup")

    pm.register(Plugin(), name="startup-plugin")
    try:
        pm.hook.gesturekit_startup()
        assert calls == ["startup"]
    finally:
        pm.unregister(name="startup-plugin")
    # `gesturekit run` calls it once, before the first frame.
    assert _run_with_lifecycle_plugin(tmp_path, 3) == ["startup", "frame 0", "frame 1", "frame 2", "shutdown"]


def test_hook_gesturekit_shutdown(tmp_path):
    # Called once, also when the source fails part-way: the second image of the folder is broken.
    folder = tmp_path / "images"
    folder.mkdir()
    shutil.copy(data_file("tracking/thumbs-up.png"), folder / "a.png")
    (folder / "b.png").write_text("not a picture")
    log = tmp_path / "log.txt"
    plugin = tmp_path / "lifecycle.py"
    plugin.write_text(LIFECYCLE_PLUGIN.format(log=str(log)))
    proc = subprocess.run([sys.executable, "-m", "gesturekit", "run", "--source", str(folder), "--model", "lite",
                           "--plugin-path", str(plugin)], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith(f"not a readable image: {folder / 'b.png'}")
    assert log.read_text().splitlines() == ["startup", "frame 0", "shutdown"]


def test_hook_gesturekit_classify(pm):
    class OpenHand:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("hand_seen", score=h.score, hands=(h.track_id,),
                              values={"wrist_y": float(h.keypoint("wrist")[1])}) for h in frame.hands]

    class NothingHere:
        @hookimpl
        def gesturekit_classify(self):  # opt-in: no arguments at all
            return None

    pm.register(OpenHand(), name="open-hand")
    pm.register(NothingHere(), name="nothing")
    try:
        frame = real_frame(0, hands=2)
        with Pipeline(pm) as pipe:
            result = pipe.process(frame)
        assert [(d.gesture, d.hands) for d in result.detections] == [("hand_seen", (1,)), ("hand_seen", (2,))]
        assert result.detections[0].values["wrist_y"] == pytest.approx(_golden()[0][0][0][1])
        assert result.events == []  # no temporal engine given: detections only
    finally:
        pm.unregister(name="open-hand")
        pm.unregister(name="nothing")


def test_hook_gesturekit_frame(pm):
    observed = []

    class Classifier:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("two_hands")] if len(frame.hands) == 2 else []

    class Observer:
        @hookimpl
        def gesturekit_frame(self, frame, detections):
            observed.append((frame.index, len(frame.hands), [d.gesture for d in detections]))

    pm.register(Classifier(), name="classifier")
    pm.register(Observer(), name="observer")
    try:
        with Pipeline(pm) as pipe:
            pipe.process(real_frame(0, hands=1))
            pipe.process(real_frame(1, hands=2))
        assert observed == [(0, 1, []), (1, 2, ["two_hands"])]
    finally:
        pm.unregister(name="classifier")
        pm.unregister(name="observer")


def test_hook_gesturekit_event(pm):
    received = []

    class Plugin:
        @hookimpl
        def gesturekit_event(self, event):
            received.append(event.to_dict())

    pm.register(Plugin(), name="event-plugin")
    try:
        ev = GestureEvent("pinch", "update", t=1.5, seq=7, hands=({"id": 2, "handedness": "right"},),
                          values={"distance": 0.25}, source="camera:0", frame=45)
        pm.hook.gesturekit_event(event=ev)
        assert received == [{"gesture": "pinch", "phase": "update", "t": 1.5, "seq": 7,
                             "hands": [{"id": 2, "handedness": "right"}], "score": 1.0,
                             "values": {"distance": 0.25}, "source": "camera:0", "frame": 45}]
    finally:
        pm.unregister(name="event-plugin")


def test_every_hook_has_a_test():
    module = sys.modules[__name__]
    missing = [n for n in HOOK_NAMES if not callable(getattr(module, f"test_hook_{n}", None))]
    assert HOOK_NAMES and missing == []


# ---------------------------------------------------------------------------------------------
# Documentation
# ---------------------------------------------------------------------------------------------


def hook_signature(name: str) -> str:
    """``gesturekit_frame(frame: Frame, detections: list[Detection]) -> None``, from the spec."""
    sig = inspect.signature(getattr(hookspecs, name))  # annotations are strings (postponed)
    params = ", ".join(f"{p.name}: {p.annotation}" for p in sig.parameters.values())
    return f"{name}({params}) -> {sig.return_annotation}"


def test_every_hook_is_documented_with_its_signature():
    docs = (REPO / "docs" / "hooks.md").read_text()
    headings = re.findall(r"^### `(.+)`$", docs, re.M)
    missing = [hook_signature(n) for n in HOOK_NAMES if hook_signature(n) not in headings]
    assert missing == [], "docs/hooks.md needs a '### `SIGNATURE`' heading for each of these"
    documented = {h.split("(")[0] for h in headings}
    assert documented == set(HOOK_NAMES), "docs/hooks.md documents hooks that do not exist"


# ---------------------------------------------------------------------------------------------
# Factories and fault isolation
# ---------------------------------------------------------------------------------------------


def test_duplicate_factory_name_is_a_plugin_error(pm):
    class First:
        @hookimpl
        def gesturekit_register_sinks(self):
            return {"osc_clone": dict}

    class Second:
        @hookimpl
        def gesturekit_register_sinks(self):
            return {"osc_clone": list}

    pm.register(First(), name="first")
    pm.register(Second(), name="second")
    try:
        with pytest.raises(PluginError, match="'osc_clone' is registered twice") as err:
            collect_factories(pm, "sinks")
        assert "'first'" in str(err.value) and "'second'" in str(err.value)
        assert err.value.plugin in ("first", "second")
    finally:
        pm.unregister(name="first")
        pm.unregister(name="second")


def test_a_register_hook_that_raises_names_the_plugin(pm):
    class Broken:
        @hookimpl
        def gesturekit_register_classifiers(self):
            raise KeyError("model")

    pm.register(Broken(), name="broken-registrar")
    try:
        with pytest.raises(PluginError, match="'broken-registrar' failed to register its classifiers"):
            collect_factories(pm, "classifiers")
    finally:
        pm.unregister(name="broken-registrar")


def test_a_failing_classifier_plugin_does_not_stop_the_pipeline(pm, caplog):
    calls = {"bad": 0}

    class Bad:
        @hookimpl
        def gesturekit_classify(self, frame):
            calls["bad"] += 1
            raise ZeroDivisionError("palm size is zero")

    class Good:
        @hookimpl
        def gesturekit_classify(self, frame):
            return [Detection("ok")]

    pm.register(Bad(), name="bad-classifier")
    pm.register(Good(), name="good-classifier")
    caplog.set_level(logging.ERROR, logger="gesturekit.plugins")
    try:
        with Pipeline(pm) as pipe:
            for i in range(15):
                assert [d.gesture for d in pipe.process(real_frame(i)).detections] == ["ok"]
            assert calls["bad"] == 10  # disabled after 10 failures in a row: not called again
            assert pipe.failures() == {"bad-classifier": 10}
        messages = [r.getMessage() for r in caplog.records]
        expected = "plugin 'bad-classifier' failed in gesturekit_classify: ZeroDivisionError: palm size is zero"
        assert messages.count(expected) == 10
        assert "plugin 'bad-classifier' disabled after 10 consecutive failures" in messages
    finally:
        pm.unregister(name="bad-classifier")
        pm.unregister(name="good-classifier")


def test_only_consecutive_failures_disable_a_plugin(pm):
    class Flaky:
        n = 0

        @hookimpl
        def gesturekit_classify(self, frame):
            self.n += 1
            if self.n % 9:  # fails 8 times in every 9 calls
                raise RuntimeError("flaky")
            return [Detection("rare")]

    flaky = Flaky()
    pm.register(flaky, name="flaky")
    try:
        with Pipeline(pm) as pipe:
            got = [d.gesture for i in range(36) for d in pipe.process(real_frame(i)).detections]
        assert got == ["rare"] * 4 and flaky.n == 36
        assert pipe.failures() == {"flaky": 32}
    finally:
        pm.unregister(name="flaky")


def test_a_failing_observer_is_isolated_too(pm):
    seen = []

    class BadObserver:
        @hookimpl
        def gesturekit_frame(self, frame):
            raise OSError("disk full")

    class GoodObserver:
        @hookimpl
        def gesturekit_frame(self, frame):
            seen.append(frame.index)

    pm.register(BadObserver(), name="bad-observer")
    pm.register(GoodObserver(), name="good-observer")
    try:
        with Pipeline(pm) as pipe:
            for i in range(3):
                pipe.process(real_frame(i))
        assert seen == [0, 1, 2]
        assert pipe.failures() == {"bad-observer": 3}
    finally:
        pm.unregister(name="bad-observer")
        pm.unregister(name="good-observer")


# ---------------------------------------------------------------------------------------------
# Public import surface
# ---------------------------------------------------------------------------------------------


def test_public_names_are_importable():
    missing = [n for n in gesturekit.__all__ if not hasattr(gesturekit, n)]
    assert missing == []
    namespace: dict = {}
    exec("from gesturekit import *", namespace)
    assert set(gesturekit.__all__) <= set(namespace)
    # Lazily imported names (they pull in the tracker or the plugin manager on first use).
    from gesturekit import Tracker, TrackerOptions, get_plugin_manager

    assert TrackerOptions().model == "full" and callable(Tracker)
    assert get_plugin_manager is gesturekit.chain.plugin_manager.get_plugin_manager
    with pytest.raises(AttributeError, match="no attribute 'Trackr'"):
        gesturekit.Trackr  # noqa: B018


def test_replay_source_is_a_source_for_plugins(tmp_path):
    """Plugin authors develop against recordings: what a plugin sees from a replay is what was recorded."""
    rec = tmp_path / "r.jsonl"
    with FrameWriter(str(rec)) as w:
        for i in range(3):
            w.write(real_frame(i, hands=2))
    got = [item.frame for item in ReplaySource(str(rec))]
    assert got == [real_frame(i, hands=2) for i in range(3)]
