"""The gesturekit daemon: one YAML config, source -> pipeline -> event bus -> sinks.

``gesturekit daemon --config FILE`` runs it; ``gesturekit status`` asks its status endpoint.
The config reference is ``docs/daemon.md``.
"""

from gesturekit.daemon.config import DaemonConfig, load_config, load_yaml_with_lines, parse_config
from gesturekit.daemon.health import HealthServer
from gesturekit.daemon.runner import Daemon

__all__ = ["Daemon", "DaemonConfig", "HealthServer", "load_config", "load_yaml_with_lines", "parse_config"]
