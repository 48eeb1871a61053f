"""The daemon's config: the one settings model (:mod:`gesturekit.settings`) plus what a daemon
needs beyond any chain: a source and at least one sink. The reference is ``docs/daemon.md``."""

from __future__ import annotations

import os

from gesturekit._exceptions import ConfigError
from gesturekit.settings import Settings, load_settings

__all__ = ["load_config", "check_daemon_settings"]


def check_daemon_settings(settings: Settings) -> Settings:
    """Refuse settings a daemon cannot run: no source, no sink."""
    path = settings.path or None
    if settings.source is None:
        raise ConfigError("the config needs a source (a camera index, a file, a URL or {uri: ...})", file=path)
    if not settings.enabled_sinks():
        raise ConfigError("the config has no sinks: add one (e.g. sinks: {out: {type: stdout}})", file=path)
    return settings


def load_config(path: str | os.PathLike[str]) -> Settings:
    """Load and validate a daemon config file (raises :class:`ConfigError` with file/line/field)."""
    return check_daemon_settings(load_settings(path))
