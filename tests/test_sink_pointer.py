"""Pointer sink under a real X server (Xvfb): the real daemon replays a synthetic landmark
recording in real time, the pointer follows the fingertip (read back by a Tk window and by
``xdotool getmouselocation``), a pinch presses and releases the left button (a drag), a
victory sign scrolls, and a left hand (not configured) does nothing."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from gesturekit_plugins.pointer_sink import PointerOptions, PointerSink, map_to_screen
from peers import REPO, Xvfb, daemon_cmd, require_binary
from synthetic import HandState, Timeline

from gesturekit import Frame, GestureEvent, Hand
from gesturekit.sources.recording import FrameWriter

pytestmark = pytest.mark.timeout(120)

SCREEN = (800, 600)  # what peers.Xvfb starts

# A full-screen Tk window that prints every pointer motion and button event it sees.
OBSERVER = textwrap.dedent("""
    import tkinter as tk
    root = tk.Tk(); root.overrideredirect(True); root.geometry("800x600+0+0")
    def out(kind, e):
        print(kind, getattr(e, "num", 0), e.x_root, e.y_root, flush=True)
    root.bind("<Motion>", lambda e: out("MOTION", e))
    root.bind("<ButtonPress>", lambda e: out("PRESS", e))
    root.bind("<ButtonRelease>", lambda e: out("RELEASE", e))
    root.after(500, lambda: print("READY", flush=True))
    root.after(90000, root.destroy)
    root.mainloop()
""")


def _state(name: str, x: float, y: float, hand: str = "right", tid: int = 2) -> HandState:
    return HandState.named(name, tid, hand, x, y, 0.5)


def session() -> Timeline:
    """A left hand that points, moves and pinches (must be ignored), then a right hand that
    points and moves right, pinches and drags down-left, lets go, and scrolls with a victory
    sign moved up; then a hand rests and leaves."""
    tl = Timeline(fps=15)
    left = [_state("pointing_up", 0.05, 0.05, "left", 1), _state("pointing_up", -0.06, 0.05, "left", 1),
            _state("pinch", -0.06, 0.05, "left", 1)]
    tl.move(left[0], 0.0).hold(left[0], 0.3).move(left[1], 0.6).move(left[2], 0.35).hold(left[2], 0.4).gap(0.4)
    a, b = _state("pointing_up", -0.08, -0.04), _state("pointing_up", 0.06, -0.04)
    p1, p2 = _state("pinch", 0.06, -0.04), _state("pinch", 0.0, 0.05)
    q = _state("pointing_up", 0.0, 0.05)
    v1, v2 = _state("victory", 0.0, 0.06), _state("victory", 0.0, -0.02)
    tl.move(a, 0.0).hold(a, 0.4).move(b, 1.0).hold(b, 0.4)           # point and move right
    tl.move(p1, 0.35).hold(p1, 0.3).move(p2, 0.8).hold(p2, 0.3)     # pinch, drag
    tl.move(q, 0.35).hold(q, 0.6)                                    # let go, rest
    tl.move(v1, 0.35).hold(v1, 0.4).move(v2, 0.8).hold(v2, 0.3)     # victory: scroll up
    tl.gap(0.4)                                                      # leave (no victory -> point
    r = _state("pointing_up", 0.0, 0.05, tid=3)                      # transition that scrolls back)
    tl.move(r, 0.0).hold(r, 0.8).gap(0.6)                            # a new hand rests, leaves
    return tl


def _lines(proc: subprocess.Popen, until: float) -> list[list[str]]:
    out = []
    os.set_blocking(proc.stdout.fileno(), False)
    while time.monotonic() < until:
        line = proc.stdout.readline()
        if line:
            out.append(line.split())
        else:
            time.sleep(0.02)
    return out


def _dist_to_path(p: tuple[float, float], path: np.ndarray) -> float:
    """Distance from point ``p`` to the polyline ``path`` (N, 2)."""
    a, b = path[:-1], path[1:]
    ab = b - a
    t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0, 1)
    return float(np.min(np.linalg.norm(a + ab * t[:, None] - p, axis=1)))


@pytest.fixture
def xserver():
    require_binary("xdotool", "xdotool")
    x = Xvfb()
    display = x.start()
    yield display
    x.stop()


def test_replay_moves_pointer_along_fingertip_pinch_drags_victory_scrolls(xserver, tmp_path):
    env = {**os.environ, "DISPLAY": xserver}
    frames = list(session().frames())
    rec = tmp_path / "session.jsonl"
    with FrameWriter(str(rec)) as w:
        for f in frames:
            w.write(f)
    cfg = tmp_path / "pointer.yaml"
    cfg.write_text(textwrap.dedent(f"""
        source: {{uri: {rec}, realtime: true}}
        bus: {{frame_rate: 100}}
        health: {{enabled: false}}
        sinks:
          mouse: {{type: pointer, hands: [right], region: [0, 0, 1, 1], dead_zone: 1,
                   buttons: {{pinch: left}}, scroll: {{gesture: victory, step: 0.03}}}}
          file: {{type: jsonl, path: {tmp_path / 'events.jsonl'}}}
    """))
    subprocess.run(["xdotool", "mousemove", "5", "5"], env=env, check=True, timeout=10)
    obs = subprocess.Popen([sys.executable, "-c", OBSERVER], env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert obs.stdout.readline().strip() == "READY", "the Tk observer window did not start"
        r = subprocess.run(daemon_cmd(cfg), env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
        assert r.returncode == 0, r.stderr
        seen = _lines(obs, time.monotonic() + 1.0)
        # read while the observer is still connected (Xvfb resets when its last client leaves)
        loc = subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True, text=True, timeout=10,
                             check=True).stdout
    finally:
        obs.kill()
        obs.wait(5)
    final = tuple(int(p.split(":")[1]) for p in loc.split()[:2])

    events = [json.loads(line) for line in (tmp_path / "events.jsonl").read_text().splitlines()]
    pinch = [(e["phase"], e["hands"][0]["handedness"]) for e in events if e["gesture"] == "pinch"
             and e["phase"] in ("start", "end")]
    assert pinch == [("start", "left"), ("end", "left"), ("start", "right"), ("end", "right")], pinch

    # where the right fingertip went, on the screen
    screen = (0, 0, *SCREEN)
    tips = {f.t: map_to_screen(*(f.hands[0].keypoint("index_finger_tip") / (f.width, f.height)), (0, 0, 1, 1),
                               screen) for f in frames if f.hands and f.hands[0].handedness == "right"}
    path = np.array(list(tips.values()))
    motions = [(int(x), int(y)) for k, _n, x, y in seen if k == "MOTION"]
    assert len(motions) > 40, f"the pointer hardly moved: {motions}"
    far = [(p, _dist_to_path(np.array(p, float), path)) for p in motions]
    assert max(d for _, d in far) < 25, [f for f in far if f[1] >= 25]  # on the fingertip's path (smoothed)
    xs = [p[0] for p in motions]
    assert max(xs) > path[:, 0].max() - 6 and min(xs) < path[:, 0].min() + 30  # it covered the path

    # the last still pose before the hand left; then no hand: the pointer stays
    rest = path[-1]
    assert math.dist(final, rest) < 4, (final, rest)
    assert final == motions[-1]

    buttons = [(k, int(n), int(x), int(y)) for k, n, x, y in seen if k in ("PRESS", "RELEASE")]
    left_clicks = [b for b in buttons if b[1] == 1]
    assert [b[0] for b in left_clicks] == ["PRESS", "RELEASE"], buttons
    (_, _, px, py), (_, _, rx, ry) = left_clicks
    start = next(e for e in events if e["gesture"] == "pinch" and e["phase"] == "start"
                 and e["hands"][0]["handedness"] == "right")
    end = next(e for e in events if e["gesture"] == "pinch" and e["phase"] == "end"
               and e["hands"][0]["handedness"] == "right")
    # the same sink, fed the same frames in order: where the pointer is at the pinch's frames
    sim, fake = _sink(screen=[0, 0, *SCREEN], hands=["right"], region=[0, 0, 1, 1], dead_zone=1,
                      scroll={"gesture": "victory"})
    at: dict[int, tuple[int, int]] = {}
    for f in frames:
        sim.send_frame(f)
        at[f.index] = fake.position
    assert math.dist((px, py), at[start["frame"]]) < 12, ((px, py), at[start["frame"]], tips[start["t"]])
    assert math.dist((rx, ry), at[end["frame"]]) < 12, ((rx, ry), at[end["frame"]], tips[end["t"]])
    i0 = seen.index(["PRESS", "1", str(px), str(py)])
    i1 = seen.index(["RELEASE", "1", str(rx), str(ry)])
    drag = [(int(x), int(y)) for k, _n, x, y in seen[i0:i1] if k == "MOTION"]
    assert max(y for _, y in drag) - py > 100 and px - min(x for x, _ in drag) > 60, drag  # held while moving
    wheel = [b for b in buttons if b[1] in (4, 5)]
    ups = [b for b in wheel if b[1] == 4 and b[0] == "PRESS"]
    assert len(ups) >= 4 and not [b for b in wheel if b[1] == 5], wheel  # hand up: scrolled up only


class FakeController:
    """Records what the sink does (the options and maths without a display)."""

    def __init__(self) -> None:
        self.calls: list[tuple] = []
        self._pos = (0, 0)

    @property
    def position(self) -> tuple[int, int]:
        return self._pos

    @position.setter
    def position(self, p: tuple[int, int]) -> None:
        self._pos = p
        self.calls.append(("move", *p))

    def press(self, b: str) -> None:
        self.calls.append(("press", b))

    def release(self, b: str) -> None:
        self.calls.append(("release", b))

    def scroll(self, dx: int, dy: int) -> None:
        self.calls.append(("scroll", dx, dy))


class _Mouse:
    class Button:
        left, right, middle = "L", "R", "M"


def _sink(**opts) -> tuple[PointerSink, FakeController]:
    s = PointerSink({"screen": [100, 50, 1001, 501], "region": [0.25, 0.25, 0.75, 0.75], **opts})
    c = FakeController()
    s._controller, s._mouse = c, _Mouse
    return s, c


def _frame(t: float, x: float, y: float, hand: str = "right", tid: int = 1) -> Frame:
    kp = np.full((21, 2), 10.0)
    kp[8] = (x, y)
    return Frame(index=int(t * 30), t=t, width=400, height=200, source="t",
                 hands=(Hand(tid, hand, 0.9, 0.9, kp, np.zeros((21, 3))),))


def test_mapping_dead_zone_and_no_hand():
    s, c = _sink(smoothing=False, dead_zone=5)
    s.send_frame(_frame(0.0, 100, 50))            # the region's top-left corner
    s.send_frame(_frame(0.1, 300, 150))           # its bottom-right corner
    s.send_frame(_frame(0.2, 0, 0))               # outside: clamped to the edge
    s.send_frame(_frame(0.3, 200, 100))           # the centre
    s.send_frame(_frame(0.4, 200.4, 100.4))       # 2 px on the screen: inside the dead zone
    s.send_frame(Frame(index=13, t=0.43, width=400, height=200, source="t"))  # no hand: nothing
    s.send_frame(_frame(0.5, 300, 150, hand="left", tid=2))                   # both hands act by default
    assert c.calls == [("move", 100, 50), ("move", 1100, 550), ("move", 100, 50), ("move", 600, 300),
                       ("move", 1100, 550)]


def test_handedness_filter_and_only_bound_gestures():
    s, c = _sink(smoothing=False, hands=["right"], buttons={"pinch": "left", "ok": "right"})
    s.send_frame(_frame(0.0, 200, 100, hand="left"))
    assert c.calls == []
    left = ({"id": 1, "handedness": "left"},)
    right = ({"id": 2, "handedness": "right"},)
    s.send(GestureEvent("pinch", "start", t=0.1, seq=1, hands=left))
    s.send(GestureEvent("fist", "start", t=0.2, seq=2, hands=right))
    s.send(GestureEvent("pinch", "end", t=0.3, seq=3, hands=left))
    assert c.calls == []
    s.send(GestureEvent("pinch", "start", t=0.4, seq=4, hands=right))
    s.send(GestureEvent("pinch", "hold", t=0.5, seq=5, hands=right))
    s.send(GestureEvent("ok", "start", t=0.6, seq=6, hands=right))
    s.send(GestureEvent("pinch", "end", t=0.7, seq=7, hands=right))
    s.close()  # ok is still held: released at close
    assert c.calls == [("press", "L"), ("press", "R"), ("release", "L"), ("release", "R")]
    assert s.status() == {"moves": 0, "presses": 2, "releases": 2, "scrolls": 0, "tracking": False}


def test_smoothing_follows_with_lag_and_converges():
    s, c = _sink(dead_zone=0, smoothing={"min_cutoff": 1.0, "beta": 0.0})
    for i in range(60):  # a jump from the left edge to the right edge of the region at t=1
        s.send_frame(_frame(i / 30, 100 if i < 30 else 300, 100))
    xs = [call[1] for call in c.calls if call[0] == "move"]
    assert xs[0] == 100 and c.calls.count(("move", 100, 300)) == 1  # still: moved once
    jump = xs[1:]
    assert jump[0] < 700  # the first frame after the jump lags behind
    assert jump == sorted(jump) and max(xs) <= 1100  # monotonic, no overshoot
    assert len([x for x in jump if x < 1090]) >= 5 and xs[-1] >= 1095  # many steps, then it arrives


def test_bad_options_are_one_clear_error():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="unknown keypoint"):
        PointerOptions(keypoint="index_tip")
    with pytest.raises(ValidationError, match="region is"):
        PointerOptions(region=[0.5, 0.2, 0.4, 0.8])
    with pytest.raises(ValidationError, match="both a button and the scroll gesture"):
        PointerOptions(scroll={"gesture": "pinch"})


def test_no_display_is_one_clear_line(tmp_path):
    cfg = tmp_path / "p.yaml"
    rec = tmp_path / "empty.jsonl"
    rec.write_text('{"index": 0, "t": 0.0, "width": 10, "height": 10, "source": "s", "hands": []}\n')
    cfg.write_text(f"source: {rec}\nsinks: {{mouse: {{type: pointer}}}}\nhealth: {{enabled: false}}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    r = subprocess.run(daemon_cmd(cfg), env=env, capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "the pointer sink needs an X11 display" in lines[0], r.stderr


def test_unknown_option_names_the_field(tmp_path):
    cfg = tmp_path / "p.yaml"
    (tmp_path / "x.jsonl").write_text('{"index": 0, "t": 0.0, "width": 10, "height": 10, "source": "s", "hands": []}\n')
    cfg.write_text("source: x.jsonl\nsinks:\n  mouse: {type: pointer, dead_zon: 3}\nhealth: {enabled: false}\n")
    r = subprocess.run(daemon_cmd(cfg), capture_output=True, text=True, timeout=60, cwd=REPO)
    assert r.returncode == 2
    assert "p.yaml:3: sinks.mouse.dead_zon" in r.stderr and "dead_zone" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_docs_example_is_a_valid_pointer_section():
    import re

    import yaml

    text = (REPO / "docs" / "sinks.md").read_text()
    section = text[text.index("## pointer"):text.index("## osc")]
    block = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    (name, cfg), = yaml.safe_load(block).items()
    sink = PointerSink(cfg)
    assert cfg["type"] == "pointer" and sink.options.hands == ["right"] and sink.options.buttons == {"pinch": "left"}
    assert sink.options.scroll.gesture == "victory" and sink.options.dead_zone == 3
