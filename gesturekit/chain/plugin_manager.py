"""The plugin manager: first-party and installed plugins (entry points), plugin paths, and the
named factories they register. Every hook implementation is isolated when it is registered
(:mod:`gesturekit.chain.guard`); hooks are called through pluggy, so
``GESTUREKIT_TRACE_PLUGINS=1`` traces every call to stderr.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import inspect
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
from gesturekit.chain.guard import PluginFailures, guard_hookimpl

__all__ = ["GesturekitPluginManager", "get_plugin_manager", "PluginInfo", "list_plugins", "collect_factories",
           "FACTORY_KINDS"]

log = logging.getLogger("gesturekit.plugins")

_ENTRYPOINT_GROUP = hookspecs.PROJECT_NAME
#: The distribution whose own entry points are the first-party plugins (``plugins/`` in the repo).
_FIRST_PARTY_DIST = "gesturekit"
#: Kinds of named factories (``gesturekit_register_<kind>``).
FACTORY_KINDS = ("classifiers", "sinks", "sources", "observers")


class GesturekitPluginManager(pluggy.PluginManager):
    """A pluggy PluginManager whose hook implementations are each isolated from the others'
    failures; :attr:`failures` holds the counts (one instance per process: it survives reloads)."""

    def __init__(self) -> None:
        super().__init__(hookspecs.PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self.failures = PluginFailures()
        self.first_party: set[str] = set()

    def register(self, plugin: object, name: str | None = None) -> str | None:
        """Register ``plugin`` (see :meth:`pluggy.PluginManager.register`); an implementation
        pluggy refuses, or an old-style ``hookwrapper=True`` one, is a one-line :class:`PluginError`."""
        label = name or getattr(plugin, "__name__", None) or type(plugin).__name__
        try:
            got = super().register(plugin, name)
        except pluggy.PluginValidationError as e:
            raise PluginError(f"plugin {label!r}: {_first_line(e)}", plugin=label) from None
        except ValueError as e:  # registered twice / name taken
            raise PluginError(f"plugin {label!r}: {e}", plugin=label) from None
        if got is None:
            return None
        for caller in self.get_hookcallers(plugin) or ():
            for impl in caller.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                if impl.hookwrapper:
                    self.unregister(plugin)
                    raise PluginError(f"plugin {got!r}: {caller.name} uses the old hookwrapper=True; write it as "
                                      "@hookimpl(wrapper=True) (a generator that returns the result)", plugin=got)
                guard_hookimpl(impl, caller.name, self.failures)
        return got


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__


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
        except BaseException as e:  # a plugin file that calls sys.exit() at import is an error too
            sys.modules.pop(name, None)
            raise PluginError(f"plugin {f} failed to import: {type(e).__name__}: {e}", plugin=str(f)) from None
        mod.__gesturekit_origin__ = str(f)  # type: ignore[attr-defined]
        mods.append(mod)
    return mods


def _first_party_entry_points() -> list[importlib.metadata.EntryPoint]:
    eps = importlib.metadata.entry_points(group=_ENTRYPOINT_GROUP)
    return [ep for ep in eps if ep.dist is not None and ep.dist.name == _FIRST_PARTY_DIST]


def get_plugin_manager(plugin_paths: Iterable[str] = (), *, entrypoints: bool = True,
                       builtins: bool = True) -> GesturekitPluginManager:
    """A plugin manager with the hook specs, the first-party plugins (``builtins``: gesturekit's
    own entry points), installed plugins (``entrypoints``: the ``gesturekit`` entry-point group)
    and plugins from ``plugin_paths`` (files or folders of ``.py`` files).

    Set ``GESTUREKIT_TRACE_PLUGINS=1`` to trace every hook call to stderr.
    """
    pm = GesturekitPluginManager()
    if builtins:
        for ep in _first_party_entry_points():
            pm.register(ep.load(), name=ep.name)
            pm.first_party.add(ep.name)
    if entrypoints:  # installed plugins (the first-party ones, registered above, are skipped by name)
        try:
            pm.load_setuptools_entrypoints(_ENTRYPOINT_GROUP)
        except PluginError:
            raise
        except BaseException as e:
            raise PluginError(f"an installed gesturekit plugin failed to load: {type(e).__name__}: {e}") from None
    for path in plugin_paths:
        for mod in _load_path(path):
            pm.register(mod, name=Path(mod.__gesturekit_origin__).stem)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        name = pm.get_name(e.plugin) or repr(e.plugin)
        unknown = [h for h in dir(e.plugin)
                   if h.startswith("gesturekit_") and getattr(getattr(pm.hook, h, None), "spec", None) is None]
        raise PluginError(f"plugin {name!r} implements unknown hook {', '.join(map(repr, unknown)) or '?'}; "
                          "the hooks are listed in docs/hooks.md", plugin=name) from None
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
    first_party = getattr(pm, "first_party", set())
    out = []
    for name, plugin in pm.list_name_plugin():
        if plugin is None:
            continue
        hooks = tuple(sorted(h.name for h in pm.get_hookcallers(plugin) or ()))
        dist = dists.get(id(plugin))
        if name in first_party:
            origin, version = "built-in", ""
        elif dist is not None:
            origin, version = f"entry point ({dist.project_name})", str(dist.version)
        elif getattr(plugin, "__gesturekit_origin__", None):
            origin, version = f"path {plugin.__gesturekit_origin__}", ""
        else:
            origin, version = "registered", ""
        out.append(PluginInfo(name, origin, hooks, version))
    return sorted(out, key=lambda p: (p.origin != "built-in", p.name))


def collect_factories(pm: pluggy.PluginManager, kind: str) -> dict[str, Callable[[Mapping[str, Any]], Any]]:
    """The named factories of ``kind`` (``classifiers``, ``sinks``, ``sources``, ``observers``),
    collected through the ``gesturekit_register_<kind>`` hook.

    Raises :class:`PluginError` when two plugins register the same name.
    """
    if kind not in FACTORY_KINDS:
        raise ValueError(f"unknown factory kind {kind!r}; use one of {', '.join(FACTORY_KINDS)}")
    failures = getattr(pm, "failures", None)
    results = getattr(pm.hook, f"gesturekit_register_{kind}")()
    out: dict[str, Callable] = {}
    owner: dict[str, str] = {}
    # pluggy calls the last registered first: reverse, so the first-party plugins come first
    for got in reversed(results):
        plugin = failures.registered_by.pop(id(got), "?") if failures is not None else _owner_of(pm, got)
        for name, factory in dict(got or {}).items():
            if name in out:
                raise PluginError(f"{kind[:-1]} name {name!r} is registered twice: by {owner[name]!r} and "
                                  f"{plugin!r}", plugin=plugin)
            out[name], owner[name] = factory, plugin
    return out


def _owner_of(pm: pluggy.PluginManager, got: Any) -> str:
    for factory in dict(got or {}).values():
        mod = inspect.getmodule(factory)
        if mod is not None and pm.get_name(mod):
            return str(pm.get_name(mod))
    return "?"
