"""Options models for plugin factories (sinks, classifiers, sources, observers).

A factory declares the options of its config section with a pydantic model; the builder
validates the section against it (errors name the file, line and field: ``daemon.yaml:14:
sinks.ws.port: ...``), the JSON Schema of the config includes it, and the factory receives the
validated model instance::

    from gesturekit import PluginOptions, hookimpl, options

    class WebhookOptions(PluginOptions):
        url: str
        timeout: float = Field(2.0, gt=0)

    @options(WebhookOptions)
    def make_webhook(opts: WebhookOptions) -> WebhookSink:
        return WebhookSink(opts.url, opts.timeout)

    @hookimpl
    def gesturekit_register_sinks():
        return {"webhook": make_webhook}

A factory without ``@options`` receives its section as a plain dict (and checks it itself).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Mapping
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError, ValidationInfo

from gesturekit._exceptions import ConfigError

__all__ = ["PluginOptions", "options", "options_model_of", "ConfigPath", "validate_options", "error_field",
           "error_message"]

M = TypeVar("M", bound=BaseModel)

F = TypeVar("F", bound=Callable[..., Any])


class PluginOptions(BaseModel):
    """Base of every plugin options model: unknown keys are errors (a typo such as ``tokn:``
    never passes silently), values are immutable once validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def options(model: type[BaseModel]) -> Callable[[F], F]:
    """Declare the options model of a factory (a decorator; works on classes and functions)."""
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError("options() takes a pydantic model class")

    def mark(factory: F) -> F:
        factory.options_model = model  # type: ignore[attr-defined]
        return factory

    return mark


def options_model_of(factory: Any) -> type[BaseModel] | None:
    """The options model a factory declared with :func:`options` (``None`` when it did not)."""
    model = getattr(factory, "options_model", None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _resolve(value: str, info: ValidationInfo) -> str:
    base = (info.context or {}).get("base_dir") if info is not None else None
    if not value or not base:
        return value
    value = os.path.expanduser(value)
    return value if os.path.isabs(value) else os.path.normpath(os.path.join(base, value))


#: A file name in a config: a relative one is resolved against the config file's folder.
ConfigPath = Annotated[str, AfterValidator(_resolve)]


def error_field(loc: tuple[Any, ...]) -> str:
    """``("sinks", "ws", "port")`` -> ``"sinks.ws.port"`` (pydantic's tagged-union steps dropped)."""
    return ".".join(str(p) for p in loc if not (isinstance(p, str) and (p.startswith("function-") or "[" in p)))


def error_message(err: Mapping[str, Any]) -> str:
    """One pydantic error as a sentence a user can act on (no "Value error, " prefix)."""
    msg = str(err.get("msg", "invalid"))
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err.get("type") == "extra_forbidden":
        msg = "unknown setting"
    elif err.get("type") == "missing":
        msg = "required setting missing"
    inp = err.get("input")
    if err.get("type") not in ("extra_forbidden", "missing") and isinstance(inp, (int, float, str, bool)) \
            and len(repr(inp)) < 60 and "got" not in msg:
        msg += f", got {inp!r}"
    return msg


def validate_options(model: type[M], data: Any, *, context: Mapping[str, Any] | None = None) -> M:
    """``model.model_validate(data)``, with the first error raised as one :class:`ConfigError`
    whose ``field`` is the dotted path of the bad key (``port``, ``bindings.swipe_left``)."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate({} if data is None else data, context=dict(context or {}))
    except ValidationError as e:
        errs = e.errors()
        first = errs[0]
        more = f" (and {len(errs) - 1} more error{'s' if len(errs) > 2 else ''})" if len(errs) > 1 else ""
        field = error_field(tuple(first.get("loc", ())))
        msg = error_message(first)
        if first.get("type") == "extra_forbidden" and "." not in field:  # a typo such as `tokn: s3cret`
            close = difflib.get_close_matches(field, list(model.model_fields), n=1)
            known = ", ".join(model.model_fields) or "none"
            msg += f"; did you mean {close[0]!r}?" if close else f" (known: {known})"
        raise ConfigError(msg + more, field=field or None) from None
