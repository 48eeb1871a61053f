"""Checks for a sink's (or any plugin's) config section: unknown keys, ports, numbers, templates.

Each raises :class:`~gesturekit.ConfigError` whose ``field`` is the key, so the caller can say
``daemon.yaml:12: sinks.ws.port: ...``.
"""

from __future__ import annotations

import difflib
import string
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from gesturekit._exceptions import ConfigError

__all__ = ["BUS_KEYS", "sink_options", "check_options", "check_port", "check_number", "check_bool", "check_template"]

M = TypeVar("M", bound=BaseModel)

#: Keys every sink section may carry: the bus's own (the daemon strips them before the sink sees
#: its section, but code that builds a sink from a whole section passes them through).
BUS_KEYS = frozenset({"type", "enabled", "queue_size", "durable"})


def check_options(config: Mapping[str, Any], known: Iterable[str], what: str) -> None:
    """Raise :class:`ConfigError` (``field`` = the key) for a key of ``config`` not in ``known``.

    :param what: the sink's name for the message, e.g. ``"the jsonl sink"``.
    """
    allowed = set(known) | BUS_KEYS
    for key in config:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed - BUS_KEYS), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ConfigError(f"unknown option {key!r} for {what}{hint} (known: "
                              f"{', '.join(sorted(allowed - BUS_KEYS)) or 'none'})", field=str(key))


def check_port(config: Mapping[str, Any], default: int | None = None, *, allow_zero: bool = False,
               key: str = "port", what: str = "") -> int:
    """The port number at ``config[key]`` (``default`` when absent; ``None`` = required).

    :param allow_zero: accept ``0`` (a server binding any free port).
    """
    port = config.get(key, default)
    lo = 0 if allow_zero else 1
    if isinstance(port, bool) or not isinstance(port, int) or not lo <= port <= 65535:
        need = f"{what} needs" if what else "must be"
        raise ConfigError(f"{need} a port number {lo}..65535, got {port!r}", field=key)
    return port


def check_number(config: Mapping[str, Any], key: str, default: float | int, *, integer: bool = False,
                 minimum: float | None = None, maximum: float | None = None, unit: str = "") -> Any:
    """A number setting: ``config[key]`` or ``default``; an ``int`` when ``integer``.

    Booleans and strings are refused; ``minimum`` / ``maximum`` are inclusive bounds.
    """
    v = config.get(key, default)
    kind = "a whole number" if integer else "a number"
    ok = not isinstance(v, bool) and (isinstance(v, int) if integer else isinstance(v, (int, float)))
    if ok and minimum is not None and v < minimum:
        ok = False
    if ok and maximum is not None and v > maximum:
        ok = False
    if not ok:
        bounds = []
        if minimum is not None:
            bounds.append(f">= {minimum:g}")
        if maximum is not None:
            bounds.append(f"<= {maximum:g}")
        rng = f" {' and '.join(bounds)}" if bounds else ""
        u = f" ({unit})" if unit else ""
        raise ConfigError(f"must be {kind}{rng}{u}, got {v!r}", field=key)
    return int(v) if integer else float(v)


def check_bool(config: Mapping[str, Any], key: str, default: bool) -> bool:
    """A true/false setting: ``config[key]`` or ``default`` (strings such as ``"no"`` are refused)."""
    v = config.get(key, default)
    if not isinstance(v, bool):
        raise ConfigError(f"must be true or false, got {v!r}", field=key)
    return v


def check_template(value: Any, placeholders: Collection[str], field: str, what: str = "a template") -> str:
    """Check that ``value`` is a string whose ``{placeholders}`` are all in ``placeholders``."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{what} must be a non-empty string", field=field)
    try:
        parsed = list(string.Formatter().parse(value))
    except ValueError as e:
        raise ConfigError(f"bad braces in {value!r}: {e}", field=field) from None
    allowed = ", ".join("{" + p + "}" for p in placeholders)
    for _, name, spec, conv in parsed:
        if name is None:
            continue
        if name not in placeholders or spec or conv:
            raise ConfigError(f"unknown placeholder {{{name}}} in {value!r}; use {allowed}", field=field)
    return value


def sink_options(model: type[M], config: Any) -> M:
    """A sink's validated options: ``config`` is its options model already (what the builder
    passes) or a plain section dict (the bus's own keys, :data:`BUS_KEYS`, are left out)."""
    from gesturekit.settings.plugin_options import validate_options

    if isinstance(config, model):
        return config
    if isinstance(config, Mapping):
        config = {k: v for k, v in config.items() if k not in BUS_KEYS}
    return validate_options(model, config)
