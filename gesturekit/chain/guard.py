"""Fault isolation for plugin code: a plugin that raises never brings gesturekit down."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

__all__ = ["Guarded", "call_hook_isolated"]

log = logging.getLogger("gesturekit.chain.plugin_manager")


class Guarded:
    """Wraps one plugin callable. Errors are logged with the plugin's name; after
    ``max_consecutive`` failures in a row the plugin is disabled with a clear message.

    :attr errors: total number of errors.
    :attr disabled: ``True`` once disabled.
    """

    def __init__(self, name: str, func: Callable[..., Any], max_consecutive: int = 10) -> None:
        self.name, self.func, self.max_consecutive = name, func, max_consecutive
        self.errors = 0
        self._streak = 0
        self.disabled = False

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self.disabled:
            return None
        try:
            out = self.func(*args, **kwargs)
        except Exception as e:
            self.errors += 1
            self._streak += 1
            log.error("plugin %r failed: %s: %s", self.name, type(e).__name__, e,
                      exc_info=log.isEnabledFor(logging.DEBUG))
            if self._streak >= self.max_consecutive:
                self.disabled = True
                log.error("plugin %r disabled after %d consecutive failures", self.name, self._streak)
            return None
        self._streak = 0
        return out


def call_hook_isolated(hook: Any, guards: dict[str, Guarded], **kwargs: Any) -> list[Any]:
    """Call every implementation of a pluggy ``hook`` separately, each behind its own guard,
    and return the non-``None`` results. ``guards`` keeps the per-plugin state between calls."""
    results = []
    for impl in reversed(hook.get_hookimpls()):  # pluggy's call order: last registered first
        key = f"{impl.plugin_name}.{hook.name}"
        g = guards.get(key)
        if g is None:
            g = guards[key] = Guarded(impl.plugin_name, impl.function)
        out = g(*[kwargs[n] for n in impl.argnames])
        if out is not None:
            results.append(out)
    return results
