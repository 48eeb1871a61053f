"""Settings from a YAML config file, a mapping, or CLI overrides; errors as ``file:line: field: message``."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from gesturekit._exceptions import ConfigError
from gesturekit.settings.model import Settings
from gesturekit.settings.plugin_options import error_field, error_message
from gesturekit.util.safeyaml import line_map, load_yaml_file

__all__ = ["load_settings", "settings_from_mapping", "with_overrides", "MAX_CONFIG_BYTES"]

#: Largest config file read (bytes).
MAX_CONFIG_BYTES = 1_000_000


def load_settings(path: str | os.PathLike[str]) -> Settings:
    """Read, check and validate a YAML config file (raises :class:`ConfigError` with file/line/field)."""
    path = os.fspath(path)
    data = load_yaml_file(path, what="config file", max_bytes=MAX_CONFIG_BYTES)
    return settings_from_mapping(data, path, line_map(data))


def settings_from_mapping(data: Any, path: str = "", lines: Mapping[str, int] | None = None, *,
                          base_dir: str | None = None, check_paths: bool = True) -> Settings:
    """Validate a config mapping. Relative paths resolve against ``base_dir`` (default: the
    folder of ``path``, else the working directory)."""
    lines = dict(lines or {})
    if data is None:
        raise ConfigError("the config file is empty", file=path or None)
    if not isinstance(data, Mapping):
        raise ConfigError("the config must be a mapping of sections (source, sinks, ...)", file=path or None,
                          line=1 if path else None)
    if base_dir is None:
        base_dir = os.path.dirname(os.path.abspath(path)) if path else os.getcwd()
    try:
        settings = Settings.model_validate(data, context={"base_dir": base_dir, "check_paths": check_paths})
    except ValidationError as e:
        raise _config_error(e, path, lines) from None
    settings._path, settings._lines, settings._base_dir = path, lines, base_dir
    settings._raw = copy.deepcopy(dict(data))
    if "bindings" in data:  # errors in the keyboard shortcut point at the top-level bindings lines
        for k in list(lines):
            if k == "bindings" or k.startswith("bindings."):
                lines["sinks.keyboard." + k] = lines[k]
    return settings


def _config_error(e: ValidationError, path: str, lines: Mapping[str, int]) -> ConfigError:
    errs = e.errors()
    first = errs[0]
    field = error_field(tuple(first.get("loc", ())))
    msg = error_message(first)
    if first.get("type") == "extra_forbidden" and "." not in field:
        known = ", ".join(Settings.model_fields)
        msg = f"unknown section {field!r}; known sections: {known}"
    elif first.get("type") == "extra_forbidden":
        msg = f"unknown setting {field.rsplit('.', 1)[-1]!r}"
    if len(errs) > 1:
        msg += f" (and {len(errs) - 1} more)"
    p = field
    while p and p not in lines:
        p = p.rpartition(".")[0]
    return ConfigError(msg, file=path or None, line=lines.get(p) if path else None, field=field or None)


def _merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def with_overrides(settings: Settings | None, overrides: Mapping[str, Any]) -> Settings:
    """``settings`` with ``overrides`` (a nested mapping such as ``{"tracker": {"model": "lite"}}``,
    what CLI flags give) merged in and validated again. Paths in overrides are relative to the
    working directory; those of the config stay relative to its file."""
    if settings is None:
        return settings_from_mapping(dict(overrides), base_dir=os.getcwd())
    data = settings.model_dump(exclude={"bindings"})
    # sections the config set are already validated and resolved: keep them, add the overrides
    over = dict(overrides)
    for key in ("source", "gestures", "plugin_paths"):
        if key in over and isinstance(over[key], (str, list)):
            over[key] = _absolute(over[key])
    if isinstance(over.get("source"), Mapping) and isinstance(over["source"].get("uri"), str):
        over["source"] = {**over["source"], "uri": _absolute(over["source"]["uri"])}
    merged = _merge(data, over)
    if "gestures" in over and "gestures" in data:
        merged["gestures"] = [*data["gestures"], *over["gestures"]]
    out = settings_from_mapping(merged, settings.path, settings.lines, base_dir=settings.base_dir)
    out._raw = settings.raw
    return out


def _absolute(v: Any) -> Any:
    if isinstance(v, list):
        return [_absolute(x) for x in v]
    if isinstance(v, str) and not v.isdigit() and "://" not in v:
        return os.path.abspath(os.path.expanduser(v))
    return v
