"""The daemon's config: the one settings model (:mod:`gesturekit.settings`) plus what a daemon
needs beyond any chain: a source and at least one sink. The reference is ``docs/daemon.md``."""

from __future__ import annotations

import os

from gesturekit._exceptions import ConfigError
from gesturekit.settings import Settings, load_settings

__all__ = ["load_config", "check_daemon_settings", "daemon_gaps"]


def daemon_gaps(settings: Settings) -> list[str]:
    """What ``settings`` lack for a daemon (a source, a sink), as messages; empty when nothing."""
    gaps = []
    if settings.source is None:
        gaps.append("the config needs a source (a camera index, a file, a URL or {uri: ...})")
    if not settings.enabled_sinks():
        gaps.append("the config has no sinks: add one (e.g. sinks: {out: {type: stdout}})")
    return gaps


def check_daemon_settings(settings: Settings) -> Settings:
    """Refuse settings a daemon cannot run: no source, no sink (both named in one line)."""
    gaps = daemon_gaps(settings)
    if gaps:
        raise ConfigError("; and ".join(gaps), file=settings.path or None)
    return settings


def load_config(path: str | os.PathLike[str]) -> Settings:
    """Load and validate a daemon config file (raises :class:`ConfigError` with file/line/field)."""
    return check_daemon_settings(load_settings(path))
