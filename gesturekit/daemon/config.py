"""The daemon's YAML config: safe loading with line numbers, and validation before start.

Every error names the file, the line and the field (``daemon.yaml:12: sinks.ws.port: ...``).
The reference with examples is ``docs/daemon.md``.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from gesturekit._exceptions import ConfigError
from gesturekit.sinks import is_loopback, needs_token

__all__ = ["DaemonConfig", "load_config", "parse_config", "load_yaml_with_lines", "is_loopback", "TOP_LEVEL_KEYS"]

TOP_LEVEL_KEYS = ("version", "source", "tracker", "gestures", "classifiers", "sinks", "bindings", "plugins",
                  "plugin_paths", "bus", "health", "log_level")
_TRACKER_KEYS = {"model": str, "device": str, "max_hands": int, "min_detection_confidence": float,
                 "min_presence_confidence": float, "min_tracking_confidence": float, "mirrored": bool,
                 "smooth": bool}
_SOURCE_KEYS = {"uri", "type", "realtime", "loop", "reconnect"}
_BUS_KEYS = {"queue_size": int, "frame_rate": float, "stats_interval": float, "drain_timeout": float}
_HEALTH_KEYS = {"enabled": bool, "host": str, "port": int, "token": str}
#: Keys of a sink section the daemon and bus use; everything else goes to the sink.
SINK_BUS_KEYS = ("type", "enabled", "queue_size", "durable")
#: Keys of a sink section that name a file: a relative one is resolved against the config's folder.
SINK_PATH_KEYS = ("path",)


def load_yaml_with_lines(path: str) -> tuple[Any, dict[str, int]]:
    """Safe-load one YAML document and map every field path (``sinks.ws.port``, ``gestures.0``)
    to its 1-based line."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except FileNotFoundError:
        raise ConfigError("config file not found", file=path) from None
    except OSError as e:
        raise ConfigError(f"cannot read config: {e.strerror}", file=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as e:
        line = e.problem_mark.line + 1 if e.problem_mark else None
        raise ConfigError(f"invalid YAML: {e.problem}", file=path, line=line) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"invalid YAML: {e}", file=path) from None
    lines: dict[str, int] = {}

    def walk(n: yaml.Node, prefix: str) -> None:
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                p = f"{prefix}.{k.value}" if prefix else str(k.value)
                lines[p] = k.start_mark.line + 1
                walk(v, p)
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                p = f"{prefix}.{i}" if prefix else str(i)
                lines[p] = v.start_mark.line + 1
                walk(v, p)

    if node is not None:
        walk(node, "")
    return data, lines


@dataclass
class DaemonConfig:
    """A validated daemon config. Paths are resolved against the config file's folder."""

    path: str
    raw: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)
    tracker: dict[str, Any] = field(default_factory=dict)
    gestures: list[str] = field(default_factory=list)
    classifiers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sinks: dict[str, dict[str, Any]] = field(default_factory=dict)
    plugins: dict[str, Any] = field(default_factory=dict)
    plugin_paths: list[str] = field(default_factory=list)
    bus: dict[str, Any] = field(default_factory=dict)
    health: dict[str, Any] = field(default_factory=dict)
    log_level: str = "info"
    base_dir: str = ""

    def error(self, message: str, field: str) -> ConfigError:
        """A ConfigError for ``field`` at its line (or its nearest parent's)."""
        return _error(self.path, self.lines, message, field)

    def sink_options(self, name: str) -> dict[str, Any]:
        """The part of a sink's section its factory gets (without type/enabled/queue_size/durable).

        A relative ``path`` (e.g. the jsonl sink's file) is resolved against the config file's
        folder, like ``source``, ``gestures`` and ``plugin_paths``.
        """
        out = {k: v for k, v in self.sinks[name].items() if k not in SINK_BUS_KEYS}
        for k in SINK_PATH_KEYS:
            v = out.get(k)
            if isinstance(v, str) and v and self.base_dir:
                v = os.path.expanduser(v)
                out[k] = v if os.path.isabs(v) else os.path.normpath(os.path.join(self.base_dir, v))
        return out


def _error(path: str, lines: Mapping[str, int], message: str, fieldpath: str) -> ConfigError:
    p = fieldpath
    while p and p not in lines:
        p = p.rpartition(".")[0]
    return ConfigError(message, file=path, line=lines.get(p), field=fieldpath or None)


def _typed(v: Any, t: type) -> bool:
    if t is float:
        return isinstance(v, (int, float)) and not isinstance(v, bool)
    if t is int:
        return isinstance(v, int) and not isinstance(v, bool)
    return isinstance(v, t)


def _section(data: Mapping[str, Any], key: str, spec: Mapping[str, type], err: Any) -> dict[str, Any]:
    sec = data.get(key) or {}
    if not isinstance(sec, Mapping):
        raise err("must be a mapping", key)
    for k, v in sec.items():
        if k not in spec:
            raise err(f"unknown setting {k!r}; known: {', '.join(spec)}", f"{key}.{k}")
        if v is not None and not _typed(v, spec[k]):
            raise err(f"must be {spec[k].__name__}, got {type(v).__name__}", f"{key}.{k}")
    return dict(sec)


def load_config(path: str) -> DaemonConfig:
    """Load and validate a daemon config file (raises :class:`ConfigError` with file/line/field)."""
    data, lines = load_yaml_with_lines(path)
    return parse_config(data, path, lines)


def parse_config(data: Any, path: str = "<config>", lines: Mapping[str, int] | None = None) -> DaemonConfig:
    """Validate an already-loaded config mapping (see :func:`load_config`)."""
    lines = dict(lines or {})

    def err(message: str, fieldpath: str) -> ConfigError:
        return _error(path, lines, message, fieldpath)

    if data is None:
        raise ConfigError("the config file is empty", file=path)
    if not isinstance(data, Mapping):
        raise ConfigError("the config must be a mapping of sections (source, sinks, ...)", file=path, line=1)
    for k in data:
        if k not in TOP_LEVEL_KEYS:
            raise err(f"unknown section {k!r}; known sections: {', '.join(TOP_LEVEL_KEYS)}", str(k))
    if data.get("version", 1) != 1:
        raise err("only version 1 is known", "version")
    base = os.path.dirname(os.path.abspath(path)) if path and not path.startswith("<") else os.getcwd()

    def resolve(p: str) -> str:
        p = os.path.expanduser(p)
        return p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))

    cfg = DaemonConfig(path=path, raw=copy.deepcopy(dict(data)), lines=lines, base_dir=base)

    # source ------------------------------------------------------------------------------------
    if "source" not in data:
        raise ConfigError("the config needs a source (a camera index, a file, a URL or {uri: ...})", file=path)
    src = data["source"]
    if isinstance(src, (int, str)) and not isinstance(src, bool):
        src = {"uri": src}
    if not isinstance(src, Mapping):
        raise err("must be a camera index, a file name, a URL or a mapping with uri", "source")
    for k in src:
        if k not in _SOURCE_KEYS and "type" not in src:
            raise err(f"unknown setting {k!r}; known: {', '.join(sorted(_SOURCE_KEYS))}", f"source.{k}")
    if "type" not in src and "uri" not in src:
        raise err("needs uri (camera index, file or URL) or type (a plugin source)", "source")
    source = dict(src)
    if "uri" in source:
        uri = source["uri"]
        if isinstance(uri, bool) or not isinstance(uri, (int, str)):
            raise err("must be a camera index, a file name or a URL", "source.uri")
        uri = str(uri)
        if not uri.isdigit() and "://" not in uri:
            uri = resolve(uri)
            if not any(c in uri for c in "*?[") and not os.path.exists(uri):
                raise err(f"file not found: {uri}", "source.uri")
        source["uri"] = uri
    for k in ("realtime", "loop", "reconnect"):
        if k in source and not isinstance(source[k], bool):
            raise err("must be true or false", f"source.{k}")
    cfg.source = source

    # tracker -----------------------------------------------------------------------------------
    cfg.tracker = _section(data, "tracker", _TRACKER_KEYS, err)
    if cfg.tracker.get("model", "full") not in ("lite", "full") and not str(cfg.tracker["model"]).endswith(".task"):
        raise err("use lite, full or a path to a .task file", "tracker.model")
    if cfg.tracker.get("device", "cpu") not in ("cpu", "gpu"):
        raise err("use cpu or gpu", "tracker.device")
    for k in ("min_detection_confidence", "min_presence_confidence", "min_tracking_confidence"):
        if k in cfg.tracker and not 0 <= cfg.tracker[k] <= 1:
            raise err("must be within 0..1", f"tracker.{k}")
    if "max_hands" in cfg.tracker and not 1 <= cfg.tracker["max_hands"] <= 4:
        raise err("must be 1..4", "tracker.max_hands")

    # gestures, classifiers, plugins ------------------------------------------------------------
    gestures = data.get("gestures") or []
    if isinstance(gestures, str):
        gestures = [gestures]
    if not isinstance(gestures, list):
        raise err("must be a list of gesture files or folders", "gestures")
    for i, g in enumerate(gestures):
        if not isinstance(g, str):
            raise err("must be a file or folder name", f"gestures.{i}")
        if not os.path.exists(resolve(g)):
            raise err(f"not found: {resolve(g)}", f"gestures.{i}")
    cfg.gestures = [resolve(g) for g in gestures]
    classifiers = data.get("classifiers") or {}
    if not isinstance(classifiers, Mapping):
        raise err("must map names to classifier sections ({name: {type: ...}})", "classifiers")
    for name, c in classifiers.items():
        if c is None:
            c = {}
        if not isinstance(c, Mapping):
            raise err("must be a mapping", f"classifiers.{name}")
        cfg.classifiers[str(name)] = {"type": str(name), **dict(c)}
    plugin_paths = data.get("plugin_paths") or []
    if not isinstance(plugin_paths, list) or not all(isinstance(p, str) for p in plugin_paths):
        raise err("must be a list of .py files or folders", "plugin_paths")
    cfg.plugin_paths = [resolve(p) for p in plugin_paths]
    for i, p in enumerate(cfg.plugin_paths):
        if not os.path.exists(p):
            raise err(f"not found: {p}", f"plugin_paths.{i}")
    plugins = data.get("plugins") or {}
    if not isinstance(plugins, Mapping):
        raise err("must map plugin names to their settings", "plugins")
    cfg.plugins = dict(plugins)

    # sinks -------------------------------------------------------------------------------------
    sinks = data.get("sinks") or {}
    if isinstance(sinks, list):
        raise err("must map sink names to sections: {my_ws: {type: websocket, port: 8765}}", "sinks")
    if not isinstance(sinks, Mapping):
        raise err("must be a mapping of sink names to sections", "sinks")
    for name, s in sinks.items():
        s = {} if s is None else s
        if not isinstance(s, Mapping):
            raise err("must be a mapping (type: ..., settings)", f"sinks.{name}")
        s = {"type": str(name), **dict(s)}
        if s.get("enabled", True) is False:
            continue
        if "queue_size" in s and (not _typed(s["queue_size"], int) or s["queue_size"] < 1):
            raise err("must be a whole number >= 1", f"sinks.{name}.queue_size")
        if "durable" in s and not isinstance(s["durable"], bool):
            raise err("must be true or false", f"sinks.{name}.durable")
        host = s.get("host")
        if s.get("type") in ("websocket",) or (s.get("type") == "tcp" and s.get("mode") == "listen"):
            if host is not None and needs_token(str(host), s.get("token")):
                raise err(f"listening on {host} is reachable from the network: set a token, or use 127.0.0.1",
                          f"sinks.{name}.host")
        cfg.sinks[str(name)] = s
    bindings = data.get("bindings")
    if bindings is not None:
        if not isinstance(bindings, Mapping) or not bindings:
            raise err("must map gesture[:phase] to a key, combo or {text: ...}", "bindings")
        if "keyboard" in cfg.sinks:
            raise err("both a top-level bindings section and a sink named keyboard: put the bindings in the "
                      "sink", "bindings")
        cfg.sinks["keyboard"] = {"type": "keyboard", "bindings": dict(bindings)}
        for k in list(lines):  # errors in the shortcut point at the top-level bindings lines
            if k == "bindings" or k.startswith("bindings."):
                lines["sinks.keyboard." + k] = lines[k]
        cfg.lines = lines
    if not cfg.sinks:
        raise ConfigError("the config has no sinks: add one (e.g. sinks: {out: {type: stdout}})", file=path)

    # bus, health, logging ----------------------------------------------------------------------
    cfg.bus = _section(data, "bus", _BUS_KEYS, err)
    for k, lo in (("queue_size", 1), ("frame_rate", 0), ("stats_interval", 0), ("drain_timeout", 0)):
        if k in cfg.bus and cfg.bus[k] < lo:
            raise err(f"must be >= {lo}", f"bus.{k}")
    cfg.health = {"enabled": True, "host": "127.0.0.1", "port": 8766, **_section(data, "health", _HEALTH_KEYS, err)}
    if not 0 <= cfg.health["port"] <= 65535:
        raise err("must be a port number 0..65535", "health.port")
    if cfg.health["enabled"] and needs_token(cfg.health["host"], cfg.health.get("token")):
        raise err(f"the status endpoint on {cfg.health['host']} is reachable from the network: set health.token "
                  "or use 127.0.0.1", "health.host")
    level = str(data.get("log_level", "info")).lower()
    if level not in ("debug", "info", "warning", "error"):
        raise err("use debug, info, warning or error", "log_level")
    cfg.log_level = level
    return cfg
