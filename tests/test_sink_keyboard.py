"""Keyboard sink under a real X server (Xvfb, started by the test) observed by a real Tk window."""

import os
import subprocess
import sys
import textwrap
import time

import pytest
from gesturekit_plugins.keyboard_sink import Action, KeyboardOptions, KeyboardSink, parse_bindings
from peers import REPO, Xvfb, daemon_cmd

from gesturekit import ConfigError

pytestmark = pytest.mark.timeout(120)

OBSERVER = textwrap.dedent("""
    import sys, tkinter as tk
    root = tk.Tk(); root.geometry("300x200+0+0")
    def key(e):
        print("KEY", e.keysym, flush=True)
    root.bind("<KeyPress>", key)
    def ready():
        root.focus_force(); print("READY", flush=True)
    root.after(500, ready)
    root.after(60000, root.destroy)
    root.mainloop()
""")

# Runs the real sink behind the real bus in its own process (pynput binds the display at import).
DRIVER = textwrap.dedent("""
    from gesturekit import GestureEvent
    from gesturekit.bus import EventBus
    from gesturekit_plugins.keyboard_sink import KeyboardSink
    bindings = {"thumbs_up:start": "space", "swipe_left": "left", "peace:start": {"text": "hi"},
                "ok:start": "ctrl+a", "done:start": "z"}
    bus = EventBus()
    bus.add_sink("keys", KeyboardSink({"bindings": bindings}))
    seq = 0
    def ev(g, p):
        global seq
        seq += 1
        bus.publish(GestureEvent(g, p, t=seq * 0.1, seq=seq))
    ev("thumbs_up", "start"); ev("thumbs_up", "hold"); ev("thumbs_up", "end")   # only start is bound
    ev("open_palm", "start"); ev("fist", "pulse")                               # unbound: nothing
    ev("swipe_left", "pulse")                                                   # no phase: pulse/start
    ev("peace", "start"); ev("ok", "start"); ev("peace", "end")
    ev("done", "start")
    stats = bus.close()
    print("DELIVERED", stats["keys"]["delivered"], "ERRORS", stats["keys"]["errors"], flush=True)
""")


@pytest.fixture
def xserver():
    x = Xvfb()
    display = x.start()
    yield display
    x.stop()


def test_bound_gestures_press_keys_unbound_press_none(xserver):
    env = {**os.environ, "DISPLAY": xserver}
    obs = subprocess.Popen([sys.executable, "-c", OBSERVER], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert obs.stdout.readline().strip() == "READY", "the Tk observer window did not start"
        time.sleep(0.3)
        r = subprocess.run([sys.executable, "-c", DRIVER], env=env, capture_output=True, text=True, timeout=60,
                           cwd=REPO)
        assert r.returncode == 0, r.stderr
        assert "DELIVERED 10 ERRORS 0" in r.stdout
        keys = []
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            line = obs.stdout.readline().split()
            if line and line[0] == "KEY":
                keys.append(line[1])
                if line[1] == "z":
                    break
    finally:
        obs.kill()
        obs.wait(5)
    assert keys == ["space", "Left", "h", "i", "Control_L", "a", "z"]


def test_no_display_is_one_clear_line(tmp_path, data):
    cfg = tmp_path / "keys.yaml"
    rec = tmp_path / "empty.jsonl"
    rec.write_text('{"index": 0, "t": 0.0, "width": 10, "height": 10, "source": "s", "hands": []}\n')
    cfg.write_text(f"source: {rec}\nbindings:\n  thumbs_up:start: space\nhealth: {{enabled: false}}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run(daemon_cmd(cfg), env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "DISPLAY is not set" in lines[0], r.stderr


def test_bindings_validate_keys_and_phases():
    b = parse_bindings({"swipe_left": "left", "pinch:end": "ctrl+shift+t"})
    assert set(b) == {("swipe_left", "start"), ("swipe_left", "pulse"), ("pinch", "end")}
    assert b[("pinch", "end")].modifiers == ("ctrl", "shift")
    with pytest.raises(ConfigError, match="unknown key"):
        parse_bindings({"x": "ctrl+nosuchkey"})
    with pytest.raises(ConfigError, match="unknown phase"):
        parse_bindings({"x:later": "a"})
    with pytest.raises(ConfigError) as ei:
        KeyboardSink({"bindings": {"x": "a"}, "bindngs": {}})
    assert ei.value.field == "bindngs"


def test_options_model_parses_bindings_and_is_registered():
    assert KeyboardSink.options_model is KeyboardOptions
    opts = KeyboardOptions(bindings={"swipe_left": "left", "swipe_left:pulse": "x", "peace:start": {"text": "hi"},
                                     "ok:end": {"key": "ctrl+a"}})
    sink = KeyboardSink(opts)  # what the builder passes: the validated model
    assert sink.options is opts
    assert sink.bindings == {("swipe_left", "start"): Action((), "left", named=True),
                             ("swipe_left", "pulse"): Action((), "x"),  # the explicit phase wins
                             ("peace", "start"): Action(text="hi"),
                             ("ok", "end"): Action(("ctrl",), "a")}
    assert KeyboardSink({"type": "keyboard", "bindings": {"a": "space"}}).bindings == \
        parse_bindings({"a": "space"})
    schema = KeyboardOptions.model_json_schema()
    assert schema["required"] == ["bindings"]
    assert schema["properties"]["bindings"]["propertyNames"]["pattern"].startswith("^")
    assert all(f.description for f in KeyboardOptions.model_fields.values())


@pytest.mark.parametrize(("bindings", "field", "message"), [
    ("missing", "bindings", "required setting missing"),
    (None, "bindings", "at least one binding"),
    ({}, "bindings", "at least one binding"),
    (["thumbs_up"], "bindings", "at least one binding"),
    ({"x:later": "a"}, "bindings.x:later", "unknown phase 'later'"),
    ({":start": "a"}, "bindings.:start", "names no gesture"),
    ({"x": "ctrl+nosuchkey"}, "bindings.x", "unknown key 'nosuchkey'"),
    ({"x": "hyper+a"}, "bindings.x", "unknown modifier 'hyper'"),
    ({"x": 5}, "bindings.x", "a binding is a key or combo string"),
    ({"x": {"text": ""}}, "bindings.x", "a binding is a key or combo string"),
    ({"x": {"txt": "hi"}}, "bindings.x", "a binding is a key or combo string"),
    ({"ok": "a", "x:start": {"key": "nosuchkey"}}, "bindings.x:start", "unknown key"),
])
def test_bindings_errors_name_the_binding(bindings, field, message):
    config = {} if bindings == "missing" else {"bindings": bindings}
    with pytest.raises(ConfigError) as ei:
        KeyboardSink(config)
    assert ei.value.field == field and message in str(ei.value)
