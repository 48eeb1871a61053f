"""Fault isolation for plugin code, in one place: a plugin that raises, returns garbage or calls
``sys.exit`` never brings gesturekit down.

Every hook implementation is wrapped once, when it is registered
(:class:`~gesturekit.chain.plugin_manager.GesturekitPluginManager`), so hooks are still called
through pluggy (tracing, ``wrapper=True`` implementations and ordering work) while each
implementation is isolated from the others. Classifier and observer objects built by factories
go through the same :class:`PluginFailures`. It counts errors per plugin and disables a plugin
after ``max_consecutive`` failures in a row; the daemon keeps one instance for its whole life,
so a reload never re-enables a disabled plugin, and its status shows the counts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from gesturekit._exceptions import PluginError
from gesturekit.values import Detection, Frame

__all__ = ["PluginFailures", "guard_hookimpl", "check_detections", "PLUGIN_EXCEPTIONS"]

log = logging.getLogger("gesturekit.plugins")

#: What a plugin may raise without taking gesturekit down (``sys.exit()`` and a stray
#: ``KeyboardInterrupt`` inside plugin code included).
PLUGIN_EXCEPTIONS: tuple[type[BaseException], ...] = (Exception, SystemExit, KeyboardInterrupt)

_REGISTER_HOOKS = ("gesturekit_register_classifiers", "gesturekit_register_sinks", "gesturekit_register_sources",
                   "gesturekit_register_observers")


class PluginFailures:
    """Error counts and disabled plugins, per plugin name (thread-safe)."""

    def __init__(self, max_consecutive: int = 10) -> None:
        self.max_consecutive = max_consecutive
        self.errors: dict[str, int] = {}
        self.last_error: dict[str, str] = {}
        self.disabled: set[str] = set()
        self._streak: dict[str, int] = {}
        self._lock = threading.Lock()
        #: which plugin returned a registration mapping (``id(mapping) -> plugin``)
        self.registered_by: dict[int, str] = {}

    def is_disabled(self, name: str) -> bool:
        return name in self.disabled

    def ok(self, name: str) -> None:
        """A call of ``name`` succeeded: its streak of failures ends."""
        if self._streak.get(name):
            with self._lock:
                self._streak[name] = 0

    def failed(self, name: str, what: str, error: BaseException | str) -> None:
        """Count a failure of plugin ``name`` in ``what`` (a hook or method name) and log it."""
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        with self._lock:
            self.errors[name] = self.errors.get(name, 0) + 1
            self.last_error[name] = f"{what}: {text}"[:300]
            streak = self._streak[name] = self._streak.get(name, 0) + 1
            disable = streak >= self.max_consecutive and name not in self.disabled
            if disable:
                self.disabled.add(name)
        log.error("plugin %r failed in %s: %s", name, what, text,
                  exc_info=isinstance(error, BaseException) and log.isEnabledFor(logging.DEBUG))
        if disable:
            log.error("plugin %r disabled after %d consecutive failures", name, streak)

    def call(self, name: str, what: str, func: Callable[..., Any], *args: Any,
             check: Callable[[Any], Any] | None = None, **kwargs: Any) -> Any:
        """``func(*args, **kwargs)`` isolated: ``None`` when ``name`` is disabled or the call fails;
        ``check`` validates (and may convert) the return value, raising on garbage."""
        if name in self.disabled:
            return None
        try:
            out = func(*args, **kwargs)
            if check is not None:
                out = check(out)
        except PLUGIN_EXCEPTIONS as e:
            self.failed(name, what, e)
            return None
        self.ok(name)
        return out

    def snapshot(self) -> dict[str, Any]:
        """``{"errors": {plugin: n}, "disabled": [...], "last_error": {...}}`` for the status."""
        with self._lock:
            return {"errors": dict(self.errors), "disabled": sorted(self.disabled),
                    "last_error": dict(self.last_error)}


def check_detections(out: Any, frame: Frame | None = None) -> list[Detection]:
    """What a classifier returned, checked: ``None`` or a list/tuple of :class:`Detection`
    whose hand ids (when ``frame`` is given) are hands of that frame."""
    if out is None:
        return []
    if isinstance(out, (list, tuple)):
        bad = next((x for x in out if not isinstance(x, Detection)), _OK)
        if bad is not _OK:
            raise TypeError(f"returned a list holding {type(bad).__name__} {_short(bad)}; expected Detection objects")
        if frame is not None:
            ids = {h.track_id for h in frame.hands}
            stray = next((d for d in out if not ids.issuperset(d.hands)), None)
            if stray is not None:
                raise ValueError(f"returned a {stray.gesture!r} detection for hand ids {list(stray.hands)}, but the "
                                 f"frame's hands are {sorted(ids)}")
        return list(out)
    raise TypeError(f"returned {type(out).__name__} {_short(out)}; expected a list of Detection")


def _check_registration(out: Any) -> Any:
    if out is None:
        return None
    if not isinstance(out, Mapping):
        raise TypeError(f"returned {type(out).__name__}; expected a mapping of names to factories")
    for k, v in out.items():
        if not isinstance(k, str) or not k:
            raise TypeError(f"registered a factory under {_short(k)}; names are non-empty strings")
        if not callable(v):
            raise TypeError(f"registered {k!r} as {type(v).__name__}, which is not callable")
    return dict(out)


_OK = object()
#: Hook name -> check of one implementation's result, given the call's keyword arguments.
_CHECKS: dict[str, Callable[[Any, Mapping[str, Any]], Any]] = {
    "gesturekit_classify": lambda out, kwargs: check_detections(out, kwargs.get("frame")),
}


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 40 else r[:37] + "..."


def guard_hookimpl(impl: Any, hook_name: str, failures: PluginFailures) -> None:
    """Wrap one pluggy ``HookImpl``'s function so that its failures are counted, not raised.

    Registration hooks (``gesturekit_register_*``) stay fatal: a plugin that cannot say what it
    provides is a :class:`PluginError` at start, with its name.
    """
    func, name = impl.function, impl.plugin_name
    if hook_name in _REGISTER_HOOKS:
        def registration(*args: Any, **kwargs: Any) -> Any:
            try:
                out = _check_registration(func(*args, **kwargs))
            except PLUGIN_EXCEPTIONS as e:
                raise PluginError(f"plugin {name!r} failed to register its {hook_name.rsplit('_', 1)[-1]}: "
                                  f"{type(e).__name__}: {e}", plugin=name) from None
            if out is not None:
                failures.registered_by[id(out)] = name
            return out
        impl.function = registration
        return
    check = _CHECKS.get(hook_name)
    if impl.wrapper:
        impl.function = _guarded_wrapper(func, name, hook_name, failures, tuple(impl.argnames))
        return

    argnames = tuple(impl.argnames)  # pluggy passes the hook's arguments positionally

    def guarded(*args: Any, **kwargs: Any) -> Any:
        call_args = {**dict(zip(argnames, args, strict=False)), **kwargs}
        bound = None if check is None else (lambda out: check(out, call_args))
        return failures.call(name, hook_name, func, *args, check=bound, **kwargs)

    impl.function = guarded


def _guarded_wrapper(func: Callable[..., Any], name: str, hook_name: str, failures: PluginFailures,
                     argnames: tuple[str, ...] = ()) -> Callable:
    """A ``wrapper=True`` implementation, isolated: if its code before or after ``yield`` fails,
    the failure is counted and the call goes on with the result the wrapped hooks gave."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if failures.is_disabled(name):
            return (yield)
        try:
            gen = func(*args, **kwargs)
            next(gen)
        except StopIteration:
            failures.failed(name, hook_name, "the wrapper returned without yielding")
            return (yield)
        except PLUGIN_EXCEPTIONS as e:
            failures.failed(name, hook_name, e)
            return (yield)
        try:
            result = yield
        except BaseException as inner:  # an inner implementation raised (e.g. a firstresult error)
            try:
                gen.throw(inner)
            except StopIteration as stop:
                return stop.value
            gen.close()
            raise
        try:
            gen.send(result)
        except StopIteration as stop:
            failures.ok(name)
            out = stop.value
            check = _CHECKS.get(hook_name)
            if check is not None and isinstance(out, list):  # a wrapper returns the list of results
                try:
                    for item in out:
                        check(item, {**dict(zip(argnames, args, strict=False)), **kwargs})
                except (TypeError, ValueError) as e:
                    failures.failed(name, hook_name, e)
                    return result
            return out
        except PLUGIN_EXCEPTIONS as e:
            failures.failed(name, hook_name, e)
            return result
        gen.close()
        failures.failed(name, hook_name, "the wrapper yielded more than once")
        return result

    return wrapper
