"""The gesturekit exception tree.

Every error gesturekit raises on purpose derives from :class:`GestureKitError`::

    GestureKitError
    ├── InputError (also ValueError)        a user-supplied input is unusable
    │   ├── SourceError                     a file, camera or stream cannot be opened / read
    │   └── ConfigError                     a config or YAML definition is invalid (file, line, field)
    ├── ModelError (also RuntimeError)      a model cannot be built or loaded
    │   └── DeviceUnavailableError          the requested inference device (GPU) is not available
    └── PluginError (also RuntimeError)     a plugin is unknown, failed to load, or clashes with another

The CLI turns any :class:`GestureKitError` into one line on stderr and exit code 2.
"""

from __future__ import annotations

__all__ = [
    "GestureKitError",
    "InputError",
    "SourceError",
    "ConfigError",
    "ModelError",
    "DeviceUnavailableError",
    "PluginError",
]


class GestureKitError(Exception):
    """Root of all gesturekit errors."""


class InputError(GestureKitError, ValueError):
    """A user-supplied input (file, option, value) is unusable."""


class SourceError(InputError):
    """A source (file, image, camera, stream, recording) cannot be opened or read."""


class ConfigError(InputError):
    """A configuration or gesture definition is invalid.

    ``file``, ``line`` and ``field`` say where, when known.
    """

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.file, self.line, self.field = file, line, field
        where = ""
        if file:
            where = f"{file}:{line}: " if line else f"{file}: "
        if field:
            where += f"{field}: "
        super().__init__(where + message)


class ModelError(GestureKitError, RuntimeError):
    """A model bundle cannot be built or loaded."""


class DeviceUnavailableError(ModelError):
    """The requested inference device is not available (never a silent fallback)."""


class PluginError(GestureKitError, RuntimeError):
    """A plugin is unknown, cannot be loaded, or registers a name twice."""

    def __init__(self, message: str, *, plugin: str | None = None) -> None:
        self.plugin = plugin
        super().__init__(message)
