"""``gesturekit view --source SRC``: a live OpenCV window with the overlay and an FPS readout.

The chain is the one of ``run`` (source, tracker, classifiers, temporal engine; the config's
sinks, if any); each result is drawn with :func:`gesturekit.render.draw_frame`. ``q`` or Esc
closes the window. Without a display (no ``DISPLAY``/``WAYLAND_DISPLAY``, an X server that
cannot be reached, or an OpenCV without GUI support) it fails in one line with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import deque

from gesturekit._exceptions import InputError
from gesturekit.chain.builder import Chain
from gesturekit.cli.common import (
    add_config_options,
    add_plugin_options,
    add_tracker_options,
    positive_int,
    settings_from_args,
)
from gesturekit.cli.run import source_overrides
from gesturekit.render import GestureState, draw_frame

__all__ = ["add_parser", "run", "check_display", "FpsMeter"]

WINDOW = "gesturekit view"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("view", help="watch the tracker live in a window (skeletons, gestures, FPS)",
                       description="Track a source and show it in a window with the hand skeletons, track ids, "
                                   "handedness, active gestures and the frame rate drawn on it. q or Esc quits.")
    p.add_argument("--source", metavar="SRC", help="camera index (0), video file, image/folder/glob, URL or .jsonl "
                                                   "recording (default: the config's source, else camera 0)")
    p.add_argument("--max-frames", type=positive_int, metavar="N", help="close after N frames")
    p.add_argument("--realtime", action="store_true", default=None,
                   help="pace files at their frame rate (default for view: on; --no-realtime is as fast as "
                        "possible)")
    p.add_argument("--no-realtime", dest="realtime", action="store_false", help=argparse.SUPPRESS)
    p.add_argument("--scale", type=float, default=1.0, metavar="X", help="window size relative to the frames "
                                                                         "(default 1; 0.5 for half size)")
    p.add_argument("--events", action="store_true", help="also print the events as JSON lines on stdout")
    add_config_options(p)
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def _x_reachable(display: str) -> bool:
    """Whether an X display name points at a server that is there (a local ``:N`` has a socket)."""
    host, _, rest = display.rpartition(":")
    number = rest.split(".")[0]
    if not number.isdigit():
        return False
    if host in ("", "unix"):
        return os.path.exists(f"/tmp/.X11-unix/X{number}")
    import socket

    try:
        with socket.create_connection((host, 6000 + int(number)), timeout=1.0):
            return True
    except OSError:
        return False


def check_display() -> None:
    """Raise :class:`~gesturekit.InputError` (one line) when no window can be opened."""
    if sys.platform.startswith("linux"):
        display, wayland = os.environ.get("DISPLAY", ""), os.environ.get("WAYLAND_DISPLAY", "")
        if not display and not wayland:
            raise InputError("no display to open a window on (DISPLAY is not set); use `gesturekit run --annotate "
                             "OUT.mp4` to draw into a video instead")
        if display and not wayland and not _x_reachable(display):
            raise InputError(f"cannot reach the X display {display!r}; use `gesturekit run --annotate OUT.mp4` to "
                             "draw into a video instead")
    import cv2

    try:
        cv2.namedWindow(WINDOW, cv2.WINDOW_AUTOSIZE | cv2.WINDOW_GUI_NORMAL)  # no Qt toolbar
    except cv2.error:
        raise InputError("this OpenCV cannot open windows (no GUI support, e.g. opencv-python-headless); use "
                         "`gesturekit run --annotate OUT.mp4` instead") from None


class FpsMeter:
    """Frames per second over the last ``window`` frames (wall clock)."""

    def __init__(self, window: int = 30) -> None:
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float | None = None) -> float | None:
        self._times.append(time.perf_counter() if now is None else now)
        if len(self._times) < 2 or self._times[-1] <= self._times[0]:
            return None
        return (len(self._times) - 1) / (self._times[-1] - self._times[0])


def run(args: argparse.Namespace) -> int:
    import cv2

    if not 0.05 <= args.scale <= 8:
        raise InputError(f"--scale must be between 0.05 and 8, got {args.scale:g}")
    src = source_overrides(args) or {}
    if args.realtime is None:
        src["realtime"] = True  # a window shows a file at its own pace
    # the window draws every frame's pixels
    settings = settings_from_args(args, source=src or None, parallel={"images": True})
    if settings.source is None:
        settings = settings_from_args(args, source={**src, "uri": "0"}, parallel={"images": True})
    chain = Chain(settings, default_sink="stdout" if args.events else None)
    check_display()  # after the settings are checked, before a camera is opened
    state, meter = GestureState(), FpsMeter()
    shown = 0
    try:
        with chain:
            for result in chain.run():
                state.apply(result.events)
                if result.tail:
                    continue
                fr = result.frame
                img = draw_frame(fr.image, fr, state.active(fr.t), fps=meter.tick(), title=WINDOW)
                if args.scale != 1.0:
                    img = cv2.resize(img, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_AREA)
                cv2.imshow(WINDOW, img)
                shown += 1
                key = cv2.waitKey(1) & 0xFF
                if key in (ord("q"), 27):
                    break
                if cv2.getWindowProperty(WINDOW, cv2.WND_PROP_VISIBLE) < 1:
                    break  # the window was closed
    finally:
        cv2.destroyAllWindows()
    print(f"gesturekit view: {shown} frames shown", file=sys.stderr)
    return 0
