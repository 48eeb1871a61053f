"""The plugin manager: built-in plugins, entry points, plugin paths, and named factories."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy

from gesturekit import hookspecs
from gesturekit._exceptions import PluginError

__all__ = ["DEFAULT_PLUGINS", "get_plugin_manager", "PluginInfo", "list_plugins", "collect_factories"]

log = logging.getLogger("gesturekit.chain.plugin_manager")

#: First-party plugins, registered like any other plugin (they use only the public API).
DEFAULT_PLUGINS: tuple[str, ...] = (
    "gesturekit_plugins.stdout_sink",
    "gesturekit_plugins.rules_classifier",
    "gesturekit_plugins.jsonl_sink",
    "gesturekit_plugins.keyboard_sink",
    "gesturekit_plugins.osc_sink",
    "gesturekit_plugins.websocket_sink",
    "gesturekit_plugins.mqtt_sink",
    "gesturekit_plugins.socket_sinks",
)

_ENTRYPOINT_GROUP = hookspecs.PROJECT_NAME


def _load_path(path: str) -> list[ModuleType]:
    p = Path(path)
    if not p.exists():
        raise PluginError(f"plugin path not found: {path}", plugin=path)
    files = sorted(p.glob("*.py")) if p.is_dir() else [p]
    mods = []
    for f in files:
        name = f"gesturekit_path_plugin_{f.stem}"
        spec = importlib.util.spec_from_file_location(name, f)
        if spec is None or spec.loader is None:
            raise PluginError(f"cannot load plugin file {f}", plugin=str(f))
        mod = importlib.util.module_from_spec(spec)
        try:
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
        except Exception as e:
            raise PluginError(f"plugin {f} failed to import: {type(e).__name__}: {e}", plugin=str(f)) from e
        mod.__gesturekit_origin__ = str(f)  # type: ignore[attr-defined]
        mods.append(mod)
    return mods


def get_plugin_manager(plugin_paths: Iterable[str] = (), *, entrypoints: bool = True,
                       builtins: bool = True) -> pluggy.PluginManager:
    """Build a plugin manager with the hook specs, the built-in plugins, installed plugins
    (the ``gesturekit`` entry-point group) and plugins from ``plugin_paths`` (files or folders).

    Set ``GESTUREKIT_TRACE_PLUGINS=1`` to trace every hook call to stderr.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    if builtins:
        for modname in DEFAULT_PLUGINS:
            mod = importlib.import_module(modname)
            pm.register(mod, name=modname.rsplit(".", 1)[-1])
    if entrypoints:
        try:
            pm.load_setuptools_entrypoints(_ENTRYPOINT_GROUP)
        except Exception as e:
            raise PluginError(f"an installed gesturekit plugin failed to load: {type(e).__name__}: {e}") from e
    for path in plugin_paths:
        for mod in _load_path(path):
            try:
                pm.register(mod, name=Path(mod.__gesturekit_origin__).stem)
            except ValueError as e:
                raise PluginError(f"plugin {path}: {e}", plugin=path) from e
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        name = pm.get_name(e.plugin) or repr(e.plugin)
        unknown = [h for h in dir(e.plugin)
                   if h.startswith("gesturekit_") and getattr(getattr(pm.hook, h, None), "spec", None) is None]
        raise PluginError(f"plugin {name!r} implements unknown hook {', '.join(map(repr, unknown)) or '?'}; "
                          "the hooks are listed in docs/hooks.md",
                          plugin=name) from e
    if os.environ.get("GESTUREKIT_TRACE_PLUGINS"):
        pm.trace.root.setwriter(lambda msg: print(msg, end="", file=sys.stderr))
        pm.enable_tracing()
    return pm


@dataclass(frozen=True)
class PluginInfo:
    """One registered plugin: its name, where it came from, and the hooks it implements."""

    name: str
    origin: str
    hooks: tuple[str, ...]
    version: str = ""


def list_plugins(pm: pluggy.PluginManager) -> list[PluginInfo]:
    """Describe every registered plugin (for ``gesturekit plugins list``)."""
    dists = {id(plugin): dist for plugin, dist in pm.list_plugin_distinfo()}
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        dist = dists.get(id(plugin))
        if dist is not None:
            origin, version = f"entry point ({dist.project_name})", str(dist.version)
        elif getattr(plugin, "__gesturekit_origin__", None):
            origin, version = f"path {plugin.__gesturekit_origin__}", ""
        elif name in {m.rsplit('.', 1)[-1] for m in DEFAULT_PLUGINS}:
            origin, version = "built-in", ""
        else:
            origin, version = "registered", ""
        out.append(PluginInfo(name, origin, hooks, version))
    return sorted(out, key=lambda p: (p.origin != "built-in", p.name))


def collect_factories(pm: pluggy.PluginManager, kind: str) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    """Collect named factories of ``kind`` (``classifiers``, ``sinks``, ``sources``).

    Raises :class:`PluginError` when two plugins register the same name.
    """
    hook = getattr(pm.hook, f"gesturekit_register_{kind}")
    out: dict[str, Callable] = {}
    owner: dict[str, str] = {}
    for impl in hook.get_hookimpls():
        try:
            got = impl.function()
        except Exception as e:
            raise PluginError(f"plugin {impl.plugin_name!r} failed to register {kind}: {e}",
                              plugin=impl.plugin_name) from e
        for name, factory in dict(got or {}).items():
            if name in out:
                raise PluginError(f"{kind[:-1]} name {name!r} is registered twice: by {owner[name]!r} and "
                                  f"{impl.plugin_name!r}", plugin=impl.plugin_name)
            out[name], owner[name] = factory, impl.plugin_name
    return out
