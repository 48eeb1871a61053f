"""The ``pointer`` sink: a fingertip moves the mouse pointer, a pinch clicks (and drags), a gesture scrolls.

Positions come from the bus's frame stream (the sink has ``send_frame(frame)``, so the event bus
hands it the rate-limited frames in their own thread, newest frame wins: a slow display never
delays the tracker); clicks and scrolling come from gesture events (``send(event)``). Config::

    mouse:
      type: pointer
      keypoint: index_finger_tip        # which keypoint steers (any of the 21 names)
      hands: [right]                    # only these hands act (default: both)
      region: [0.2, 0.15, 0.8, 0.75]    # x0, y0, x1, y1 of the camera image (0..1) mapped to the screen
      screen: [0, 0, 1920, 1080]        # x, y, width, height on the display (default: the whole X screen)
      smoothing: {min_cutoff: 1.0, beta: 0.05}   # One-Euro filter; false turns it off
      dead_zone: 3                      # pixels: smaller moves are ignored (no jitter at rest)
      buttons: {pinch: left}            # gesture -> button: pressed on start, released on end
      scroll: {gesture: victory, step: 0.03}     # while active, hand moves up/down scroll

Acts only on what the config binds: other gestures and other hands do nothing, and with no
(matching) hand in view the pointer stays where it is. A button still held when the hand is
lost is released by the gesture's ``end`` (the temporal engine ends it), or at close.
Output goes through pynput (X11 on Linux); without a display it fails with one clear line.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections import deque
from typing import Any, Literal

import numpy as np
from pydantic import Field, field_validator, model_validator

from gesturekit import KEYPOINT_NAMES, Frame, GestureEvent, Hand, PluginError, PluginOptions, hookimpl, options
from gesturekit.sinks import import_pynput, sink_options
from gesturekit.tracking.smoothing import OneEuroFilter

__all__ = ["PointerOptions", "PointerSink", "SmoothingOptions", "ScrollOptions", "map_to_screen"]

log = logging.getLogger("gesturekit.sinks.pointer")

Button = Literal["left", "right", "middle"]


class SmoothingOptions(PluginOptions):
    """One-Euro filter of the pointer position (see tracker.md for the parameters)."""

    min_cutoff: float = Field(1.0, gt=0, description="cutoff (Hz) at rest: lower = steadier, more lag")
    beta: float = Field(0.05, ge=0, description="speed coefficient: higher = less lag on fast moves")


class ScrollOptions(PluginOptions):
    """A gesture that scrolls: while it is active, moving the hand up or down scrolls."""

    gesture: str = Field(min_length=1, description="the gesture that scrolls while active")
    step: float = Field(0.03, gt=0, le=1, description="hand travel per scroll click, as a fraction of the "
                                                      "region's height")
    invert: bool = Field(False, description="hand up scrolls down")


class PointerOptions(PluginOptions):
    """Options of the ``pointer`` sink."""

    keypoint: str = Field("index_finger_tip", description="the keypoint that steers the pointer")
    hands: list[Literal["left", "right"]] = Field(["left", "right"], min_length=1,
                                                  description="the hands that act (handedness)")
    region: tuple[float, float, float, float] = Field(
        (0.2, 0.15, 0.8, 0.75), description="x0, y0, x1, y1 of the camera image (0..1) mapped onto the screen")
    screen: tuple[int, int, int, int] | None = Field(
        None, description="x, y, width, height of the screen area to steer (default: the whole X screen)")
    smoothing: SmoothingOptions | Literal[False] = Field(default_factory=SmoothingOptions,
                                                         description="One-Euro smoothing, or false")
    dead_zone: float = Field(2.0, ge=0, description="pixels: moves smaller than this are ignored")
    buttons: dict[str, Button] = Field({"pinch": "left"},
                                       description="gesture -> mouse button held while the gesture is active")
    scroll: ScrollOptions | None = Field(None, description="a gesture that scrolls while active")

    @field_validator("keypoint")
    @classmethod
    def _known_keypoint(cls, v: str) -> str:
        if v not in KEYPOINT_NAMES:
            raise ValueError(f"unknown keypoint {v!r}; use one of {', '.join(KEYPOINT_NAMES)}")
        return v

    @field_validator("region")
    @classmethod
    def _region(cls, v: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = v
        if not all(0.0 <= c <= 1.0 for c in v) or x1 <= x0 or y1 <= y0:
            raise ValueError("region is [x0, y0, x1, y1] with 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1")
        return v

    @field_validator("screen")
    @classmethod
    def _screen(cls, v: tuple[int, int, int, int] | None) -> tuple[int, int, int, int] | None:
        if v is not None and (v[2] < 1 or v[3] < 1):
            raise ValueError("screen is [x, y, width, height] with a width and height of at least 1")
        return v

    @model_validator(mode="after")
    def _scroll_not_a_button(self) -> PointerOptions:
        if self.scroll is not None and self.scroll.gesture in self.buttons:
            raise ValueError(f"{self.scroll.gesture!r} is both a button and the scroll gesture")
        return self


def map_to_screen(nx: float, ny: float, region: tuple[float, float, float, float],
                  screen: tuple[int, int, int, int]) -> tuple[float, float]:
    """A normalized image point -> screen pixels: ``region`` of the image spans ``screen``
    (points outside the region stick to the screen's edge)."""
    x0, y0, x1, y1 = region
    sx, sy, sw, sh = screen
    u = min(max((nx - x0) / (x1 - x0), 0.0), 1.0)
    v = min(max((ny - y0) / (y1 - y0), 0.0), 1.0)
    return sx + u * (sw - 1), sy + v * (sh - 1)


def _import_pynput() -> Any:
    return import_pynput("mouse", "pointer")


def _display_size() -> tuple[int, int, int, int]:
    """The whole X screen as ``(0, 0, width, height)``; :class:`PluginError` when unknown."""
    try:
        from Xlib import display as xdisplay

        d = xdisplay.Display()
        try:
            s = d.screen()
            return 0, 0, int(s.width_in_pixels), int(s.height_in_pixels)
        finally:
            d.close()
    except Exception as e:
        raise PluginError(f"the pointer sink cannot read the screen size ({type(e).__name__}: {e}); set "
                          "screen: [x, y, width, height]", plugin="pointer_sink") from None


@options(PointerOptions)
class PointerSink:
    """Moves the pointer from the frame stream, clicks and scrolls on the bound gestures.

    :param config: a :class:`PointerOptions` or its section as a plain dict.
    """

    def __init__(self, config: PointerOptions | Any = None) -> None:
        opts = sink_options(PointerOptions, config or {})
        self.options = opts
        self._kp = KEYPOINT_NAMES.index(opts.keypoint)
        self._mouse: Any = None
        self._controller: Any = None
        self._screen = opts.screen
        self._lock = threading.Lock()
        self._seen = threading.Condition(self._lock)
        self._last_index = -1  # the last frame index the frame stream brought
        self._history: deque[tuple[int, tuple[int, int]]] = deque(maxlen=256)  # (frame index, pointer position)
        self._filter: OneEuroFilter | None = None
        self._track: int | None = None
        self._at: tuple[float, float] | None = None  # where this sink last put the pointer
        self._pressed: dict[str, str] = {}  # gesture -> button held
        self._scrolling = False
        self._scroll_y: float | None = None  # the hand's normalized y at the last scroll click
        self.moves = self.presses = self.releases = self.scrolls = 0

    # life cycle ---------------------------------------------------------------------------------
    def open(self) -> None:
        """Connect to the display (raises :class:`gesturekit.PluginError` with one clear line)."""
        self._mouse = _import_pynput()
        if self._screen is None:
            if not sys.platform.startswith("linux"):
                raise PluginError("set screen: [x, y, width, height] for the pointer sink on this system",
                                  plugin="pointer_sink")
            self._screen = _display_size()
        try:
            self._controller = self._mouse.Controller()
        except Exception as e:
            raise PluginError(f"the pointer sink cannot use the display: {type(e).__name__}: {e}",
                              plugin="pointer_sink") from None

    def close(self) -> None:
        """Release any button still held and let the display go."""
        with self._lock:
            if self._controller is not None:
                for gesture in list(self._pressed):
                    self._release(gesture)
            self._controller = None

    def status(self) -> dict[str, Any]:
        return {"moves": self.moves, "presses": self.presses, "releases": self.releases, "scrolls": self.scrolls,
                "tracking": self._track is not None}

    # frames: where the pointer goes --------------------------------------------------------------
    def _pick(self, frame: Frame) -> Hand | None:
        """The steering hand: the one steering so far while it stays, else the first allowed one."""
        allowed = [h for h in frame.hands if h.handedness in self.options.hands]
        for h in allowed:
            if h.track_id == self._track:
                return h
        return allowed[0] if allowed else None

    def target(self, frame: Frame) -> tuple[float, float, float] | None:
        """``(screen x, screen y, normalized image y)`` of the steering keypoint in ``frame``
        (unsmoothed), or None when no allowed hand is in view."""
        hand = self._pick(frame)
        if hand is None or frame.width <= 0 or frame.height <= 0 or self._screen is None:
            return None
        x, y = (float(c) for c in hand.keypoints[self._kp])
        nx, ny = x / frame.width, y / frame.height
        return (*map_to_screen(nx, ny, self.options.region, self._screen), ny)

    def send_frame(self, frame: Frame) -> None:
        """Move the pointer to the steering keypoint (smoothed, outside the dead zone), or
        scroll while the scroll gesture is active. No allowed hand: nothing moves."""
        if self._controller is None:
            self.open()
        with self._lock:
            self._last_index = frame.index
            self._seen.notify_all()
            hand = self._pick(frame)
            if hand is None:
                self._track, self._filter, self._scroll_y = None, None, None
                return
            if hand.track_id != self._track:  # a new hand: the filter starts over at its position
                self._track, self._filter = hand.track_id, None
            tgt = self.target(frame)
            assert tgt is not None
            px, py, ny = tgt
            if self._scrolling:
                self._scroll(ny)
                return
            if self.options.smoothing is not False:
                if self._filter is None:
                    self._filter = OneEuroFilter(self.options.smoothing.min_cutoff, self.options.smoothing.beta)
                px, py = (float(c) for c in self._filter(np.array([px, py]), frame.t))
            pos = (int(round(px)), int(round(py)))
            if self._at is not None and (pos == (int(round(self._at[0])), int(round(self._at[1])))
                                         or max(abs(px - self._at[0]), abs(py - self._at[1])) < self.options.dead_zone):
                return
            self._at = (px, py)
            self._controller.position = pos
            self._history.append((frame.index, pos))
            self.moves += 1

    def _scroll(self, ny: float) -> None:
        assert self.options.scroll is not None
        if self._scroll_y is None:
            self._scroll_y = ny
            return
        step = self.options.scroll.step * (self.options.region[3] - self.options.region[1])
        clicks = int((self._scroll_y - ny) / step)  # hand up (smaller y) -> positive -> scroll up
        if clicks:
            self._scroll_y -= clicks * step
            self._controller.scroll(0, -clicks if self.options.scroll.invert else clicks)
            self.scrolls += abs(clicks)

    # events: buttons and scrolling --------------------------------------------------------------
    def _allowed(self, event: GestureEvent) -> bool:
        hands = [h.get("handedness") for h in event.hands]
        return not hands or any(h in self.options.hands for h in hands)

    def send(self, event: GestureEvent) -> None:
        """Press on a bound gesture's ``start`` (a ``pulse`` clicks), release on its ``end``;
        the scroll gesture turns scrolling on and off. Anything else does nothing."""
        button = self.options.buttons.get(event.gesture)
        scroll = self.options.scroll is not None and event.gesture == self.options.scroll.gesture
        if button is None and not scroll:
            return
        if event.phase in ("start", "pulse") and not self._allowed(event):
            return
        if self._controller is None:
            self.open()
        with self._lock:
            if event.phase in ("start", "end", "pulse") and not scroll:
                self._sync(event.frame)
            if scroll:
                if event.phase == "start":
                    self._scrolling, self._scroll_y = True, None
                elif event.phase == "end":
                    self._scrolling, self._filter = False, None  # the pointer resumes where the hand is
                return
            assert button is not None
            if event.phase == "start" and event.gesture not in self._pressed:
                self._controller.press(getattr(self._mouse.Button, button))
                self._pressed[event.gesture] = button
                self.presses += 1
                log.info("%s:start -> press %s at %s", event.gesture, button, self._at)
            elif event.phase == "end" and event.gesture in self._pressed:
                self._release(event.gesture)
                log.info("%s:end -> release %s at %s", event.gesture, button, self._at)
            elif event.phase == "pulse":
                b = getattr(self._mouse.Button, button)
                self._controller.press(b)
                self._controller.release(b)
                self.presses += 1
                self.releases += 1

    def _sync(self, index: int, timeout: float = 0.15) -> None:
        """Put the pointer where it was at frame ``index`` (the event's frame) before a button
        changes: events and frames travel separately, so wait a moment for a frame stream that
        is behind, and step back to the recorded position when it is ahead (a press lands where
        the pinch started, not where the hand went since). Called with the lock held."""
        deadline = time.monotonic() + timeout
        while self._last_index < index and self._last_index >= 0:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._seen.wait(left)
        if self._last_index <= index:
            return
        at = [pos for i, pos in self._history if i <= index]
        if at and self._controller.position != at[-1]:
            self._controller.position = at[-1]
            self._at = (float(at[-1][0]), float(at[-1][1]))

    def _release(self, gesture: str) -> None:
        button = self._pressed.pop(gesture)
        self._controller.release(getattr(self._mouse.Button, button))
        self.releases += 1


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"pointer": PointerSink}
