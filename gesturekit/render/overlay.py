"""The one overlay: hand skeletons, track ids, handedness and the active gestures on a frame.

``run --annotate``, ``view`` and ``demo`` all draw with :func:`draw_frame`; which gestures are
active comes from the chain's GestureEvents through :class:`GestureState` (start ... end, and
a pulse for a short while after it fired)::

    state = GestureState()
    for result in chain.run():
        state.apply(result.events)
        image = draw_frame(result.frame.image, result.frame, state.active(result.frame.t))

The wrist is always a filled disc of :data:`WRIST_COLOUR` (pure magenta, used nowhere else), so
that a test (or a person) can find the drawn wrist again in the output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

from gesturekit.values import FINGERS, Frame, GestureEvent

__all__ = ["ActiveGesture", "GestureState", "draw_frame", "blank_image", "track_colour", "WRIST_COLOUR",
           "PULSE_SHOW"]

#: BGR colour of the wrist disc (pure magenta; nothing else is drawn in it).
WRIST_COLOUR: tuple[int, int, int] = (255, 0, 255)
#: Seconds a pulse gesture (a swipe) stays on screen after it fired.
PULSE_SHOW = 0.6
#: Track colours (BGR), by track id; none is close to magenta.
_PALETTE: tuple[tuple[int, int, int], ...] = ((40, 200, 40), (30, 160, 255), (230, 170, 30), (60, 60, 230),
                                              (200, 200, 40), (40, 220, 220))
_PALM: tuple[tuple[int, int], ...] = ((0, 1), (0, 5), (5, 9), (9, 13), (13, 17), (0, 17))
_BONES: tuple[tuple[int, int], ...] = _PALM + tuple((c[i], c[i + 1]) for c in FINGERS.values() for i in range(3))
_TIPS = (4, 8, 12, 16, 20)
_FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class ActiveGesture:
    """A gesture that is active at a moment: what the overlay writes beside the hand(s)."""

    gesture: str
    hands: tuple[int, ...] = ()
    score: float = 1.0
    values: Mapping[str, float] = field(default_factory=dict)
    text: str = ""
    since: float = 0.0
    pulse: bool = False

    def label(self) -> str:
        """``pinch distance 0.21``, ``asl_word "HEL"``."""
        out = self.gesture
        if self.text:
            out += f' "{self.text}"'
        out += "".join(f" {k} {v:.2f}" for k, v in self.values.items())
        return out


class GestureState:
    """The active gestures, kept from the GestureEvents of a chain (the temporal engine's view:
    what has started and not yet ended, with its latest values)."""

    def __init__(self, pulse_show: float = PULSE_SHOW) -> None:
        self.pulse_show = pulse_show
        self._open: dict[tuple[str, tuple[int, ...]], ActiveGesture] = {}
        self._pulses: list[ActiveGesture] = []

    def apply(self, events: Iterable[GestureEvent]) -> None:
        """Take the events of one frame (in order)."""
        for ev in events:
            key = (ev.gesture, tuple(int(h["id"]) for h in ev.hands))
            if ev.phase == "end":
                self._open.pop(key, None)
            elif ev.phase == "pulse":
                self._pulses.append(ActiveGesture(ev.gesture, key[1], ev.score, dict(ev.values), ev.text, ev.t, True))
            else:
                old = self._open.get(key)
                since = old.since if old is not None and ev.phase != "start" else ev.t
                self._open[key] = ActiveGesture(ev.gesture, key[1], ev.score, dict(ev.values), ev.text, since)

    def active(self, t: float) -> list[ActiveGesture]:
        """What is active at ``t``: open gestures, then pulses of the last :attr:`pulse_show` s."""
        self._pulses = [p for p in self._pulses if t - p.since <= self.pulse_show]
        return [*self._open.values(), *self._pulses]

    def clear(self) -> None:
        self._open.clear()
        self._pulses.clear()


def track_colour(track_id: int) -> tuple[int, int, int]:
    """The BGR colour of a track."""
    return _PALETTE[(int(track_id) - 1) % len(_PALETTE)]


def blank_image(width: int, height: int) -> np.ndarray:
    """A dark canvas for frames without pixels (a replayed landmark recording)."""
    return np.full((max(int(height), 1), max(int(width), 1), 3), 30, np.uint8)


def _text(img: np.ndarray, text: str, org: tuple[int, int], scale: float, colour: tuple[int, int, int],
          thick: int, bg: tuple[int, int, int] | None = (0, 0, 0)) -> int:
    """Text with a filled box behind it; returns the box height."""
    (w, h), base = cv2.getTextSize(text, _FONT, scale, thick)
    x, y = org
    x = int(np.clip(x, 0, max(img.shape[1] - w - 4, 0)))
    y = int(np.clip(y, h + 4, img.shape[0] - base - 2))
    if bg is not None:
        cv2.rectangle(img, (x - 3, y - h - 4), (x + w + 3, y + base + 2), bg, -1)
    cv2.putText(img, text, (x, y), _FONT, scale, colour, thick, cv2.LINE_AA)
    return h + base + 6


def draw_frame(image: np.ndarray | None, frame: Frame, active: Sequence[ActiveGesture] = (), *,
               fps: float | None = None, title: str = "", lines: Sequence[str] = (), copy: bool = True) -> np.ndarray:
    """Draw ``frame``'s hands and the ``active`` gestures on ``image`` (BGR; ``None``: a dark
    canvas of the frame's size) and return the drawing.

    Per hand: the skeleton and joints in the track's colour, fingertips larger, the wrist as a
    filled :data:`WRIST_COLOUR` disc, and a label ``#ID handedness score`` above the hand with
    the hand's active gestures (and their values, e.g. ``pinch distance 0.21``) under it.
    Gestures of two hands (``zoom_in``) are listed at the top, with a line between the wrists.
    A status line shows the frame number, time and ``fps`` (when given); ``title`` and
    ``lines`` (e.g. a spelled word) go under it.
    """
    img = blank_image(frame.width, frame.height) if image is None else (image.copy() if copy else image)
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    h, w = img.shape[:2]
    s = max(min(w, h) / 720.0, 0.45)  # drawing scale: sizes follow the image
    thick = max(int(round(2 * s)), 1)
    fs = 0.6 * s
    by_hand: dict[int, list[ActiveGesture]] = {}
    multi: list[ActiveGesture] = []
    for g in active:
        if len(g.hands) == 1:
            by_hand.setdefault(g.hands[0], []).append(g)
        else:
            multi.append(g)
    wrists: dict[int, tuple[int, int]] = {}
    for hand in frame.hands:
        kp = np.asarray(hand.keypoints, dtype=np.float64)
        pts = np.rint(kp).astype(np.int32)
        colour = track_colour(hand.track_id)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        cv2.rectangle(img, (int(x0), int(y0)), (int(x1), int(y1)), colour, 1, cv2.LINE_AA)
        segs = pts[np.array(_BONES)]  # (n_bones, 2, 2)
        cv2.polylines(img, list(segs.reshape(-1, 2, 1, 2)), False, colour, thick + 1, cv2.LINE_AA)
        for i, p in enumerate(pts[1:], 1):
            r = int(round((5 if i in _TIPS else 3) * s)) + 1
            cv2.circle(img, (int(p[0]), int(p[1])), r, colour, -1, cv2.LINE_AA)
            cv2.circle(img, (int(p[0]), int(p[1])), r, (255, 255, 255), 1, cv2.LINE_AA)
        wrists[hand.track_id] = (int(pts[0, 0]), int(pts[0, 1]))
        label = f"#{hand.track_id} {hand.handedness} {hand.score:.2f}"
        gestures = by_hand.get(hand.track_id, [])
        rows = [label] + [g.label() for g in gestures]
        row_h = int(cv2.getTextSize("Ag", _FONT, fs, thick)[0][1] + 10 * s)
        top = int(y0 - 12 * s - row_h * (len(rows) - 1))
        if top < row_h:  # no room above the hand: write below it
            top = int(y1 + row_h + 12 * s)
        for k, row in enumerate(rows):
            _text(img, row, (int(x0), top + k * row_h), fs, colour if k == 0 else (255, 255, 255), thick)
    y = int(8 * s)
    status = f"frame {frame.index}  t {frame.t:.2f}s  hands {len(frame.hands)}"
    if fps is not None:
        status += f"  {fps:.1f} fps"
    for row in ([title] if title else []) + [status] + list(lines):
        y += _text(img, row, (int(8 * s), y + int(18 * s)), fs, (255, 255, 255), thick)
    for g in multi:
        ids = [i for i in g.hands if i in wrists]
        if len(ids) >= 2:
            cv2.line(img, wrists[ids[0]], wrists[ids[1]], (255, 255, 255), thick, cv2.LINE_AA)
        hands = " + ".join(f"#{i}" for i in g.hands)
        y += _text(img, f"{g.label()} ({hands})", (int(8 * s), y + int(18 * s)), fs, (80, 255, 255), thick)
    for wrist in wrists.values():  # last, so that nothing covers them
        cv2.circle(img, wrist, int(round(7 * s)) + 1, WRIST_COLOUR, -1, cv2.LINE_AA)
    return img
