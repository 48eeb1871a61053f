"""Reaching the X11 display through pynput, for sinks that type keys or move the pointer."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from gesturekit._exceptions import PluginError

__all__ = ["import_pynput"]


def import_pynput(module: str, sink: str) -> Any:
    """``pynput.<module>`` (``keyboard`` or ``mouse``) for the ``sink`` sink (``"pointer"``), or
    one :class:`PluginError` line: no DISPLAY, pynput missing, or a display that cannot be reached."""
    plugin = f"{sink}_sink"
    if sys.platform.startswith("linux") and not os.environ.get("DISPLAY"):
        raise PluginError(f"the {sink} sink needs an X11 display, and DISPLAY is not set (run it in your desktop "
                          "session, or under Xvfb for tests)", plugin=plugin)
    unreachable = f"the {sink} sink cannot reach the display {os.environ.get('DISPLAY', '')!r}: "
    try:
        return importlib.import_module(f"pynput.{module}")
    except ImportError as e:
        if "pynput" in str(e) or getattr(e, "name", "") == "pynput":
            raise PluginError(f"the {sink} sink needs pynput: pip install 'gesturekit[keyboard]'",
                              plugin=plugin) from None
        raise PluginError(unreachable + str(e).splitlines()[0], plugin=plugin) from None
    except Exception as e:  # Xlib raises its own errors for an unreachable display
        raise PluginError(f"{unreachable}{type(e).__name__}: {e}", plugin=plugin) from None
