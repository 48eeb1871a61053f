"""gesturekit: control software with hand gestures.

The public API. Plugin authors need only ``from gesturekit import hookimpl`` and the values.
"""

from gesturekit._exceptions import (
    ConfigError,
    DeviceUnavailableError,
    GestureKitError,
    InputError,
    ModelError,
    PluginError,
    SourceError,
)
from gesturekit.hookspecs import hookimpl, hookspec
from gesturekit.settings.plugin_options import ConfigPath, PluginOptions, options
from gesturekit.values import FINGERS, KEYPOINT_NAMES, Detection, Frame, GestureEvent, Hand, HandLandmark

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "hookimpl",
    "hookspec",
    "PluginOptions",
    "options",
    "ConfigPath",
    "Hand",
    "Frame",
    "Detection",
    "GestureEvent",
    "HandLandmark",
    "KEYPOINT_NAMES",
    "FINGERS",
    "GestureKitError",
    "InputError",
    "SourceError",
    "ConfigError",
    "ModelError",
    "DeviceUnavailableError",
    "PluginError",
    "Tracker",
    "TrackerOptions",
    "get_plugin_manager",
]

# Public names report where they are public (reprs and tracebacks show gesturekit.Hand).
for _obj in (Hand, Frame, Detection, GestureEvent, HandLandmark, GestureKitError, InputError, SourceError,
             ConfigError, ModelError, DeviceUnavailableError, PluginError):
    _obj.__module__ = __name__
del _obj


def __getattr__(name: str):  # noqa: ANN202 - lazy imports keep `import gesturekit` light
    if name in ("Tracker", "TrackerOptions"):
        from gesturekit import tracking

        return getattr(tracking, name)
    if name in ("get_plugin_manager",):
        from gesturekit.chain import plugin_manager

        return plugin_manager.get_plugin_manager
    raise AttributeError(f"module 'gesturekit' has no attribute {name!r}")
