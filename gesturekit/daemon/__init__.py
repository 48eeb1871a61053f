"""The gesturekit daemon: one YAML config, source -> pipeline -> event bus -> sinks.

``gesturekit daemon --config FILE`` runs it; ``gesturekit status`` asks its status endpoint.
The config reference is ``docs/daemon.md``.
"""

from gesturekit.daemon.config import check_daemon_settings, load_config
from gesturekit.daemon.health import HealthServer
from gesturekit.daemon.runner import Daemon

__all__ = ["Daemon", "HealthServer", "load_config", "check_daemon_settings"]
