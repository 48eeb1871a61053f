"""The gesturekit hook specifications: the public contract for plugins.

Implementations may accept any subset of a hook's arguments (pluggy's opt-in arguments), so
hooks can grow without breaking plugins. Mark implementations with
``from gesturekit import hookimpl``. Every hook is documented with an example in
``docs/hooks.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from gesturekit.values import Detection, Frame, GestureEvent

__all__ = ["hookspec", "hookimpl", "PROJECT_NAME"]

PROJECT_NAME = "gesturekit"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# ---------------------------------------------------------------------------------------------
# Registration: named factories a config file can refer to (``type: osc``)
# ---------------------------------------------------------------------------------------------


@hookspec
def gesturekit_register_classifiers() -> Mapping[str, Callable[[Mapping[str, Any]], Any]] | None:
    """Register named classifier factories.

    A factory takes the classifier's config section (a dict) and returns an object with
    ``classify(frame) -> list[Detection]`` and optionally ``close()``.

    :returns: a mapping ``{name: factory}``. Two plugins registering one name is an error.
    """


@hookspec
def gesturekit_register_sinks() -> Mapping[str, Callable[[Mapping[str, Any]], Any]] | None:
    """Register named sink factories.

    A factory takes the sink's config section (a dict) and returns an object with
    ``send(event)`` and optionally ``open()`` and ``close()``. ``send`` runs in the sink's own
    worker thread, so it may block.

    :returns: a mapping ``{name: factory}``. Two plugins registering one name is an error.
    """


@hookspec
def gesturekit_register_sources() -> Mapping[str, Callable[[Mapping[str, Any]], Any]] | None:
    """Register named source factories (``source: {type: NAME, ...}`` in a config).

    A factory takes the source's config section and returns a Source (an iterable of
    :class:`gesturekit.sources.SourceItem` with ``name``, ``live``, ``mode`` and ``close()``).

    :returns: a mapping ``{name: factory}``.
    """


@hookspec
def gesturekit_register_observers() -> Mapping[str, Callable[[Mapping[str, Any]], Any]] | None:
    """Register named frame-observer factories (``observers: {NAME: {type: ..., ...}}`` in a config).

    A factory takes the observer's options and returns an object with
    ``observe(frame, detections)`` (called after every frame, in the pipeline's thread: keep it
    quick) and optionally ``close()``. The ``landmarks`` observer (``run --frames-jsonl``,
    ``--record-landmarks``) is one.

    :returns: a mapping ``{name: factory}``.
    """


# ---------------------------------------------------------------------------------------------
# Life cycle
# ---------------------------------------------------------------------------------------------


@hookspec
def gesturekit_configure(config: Mapping[str, Any], plugin_config: Mapping[str, Mapping[str, Any]]) -> None:
    """Called once before the first frame with the whole validated config.

    :param config: the whole config (source, tracker, gestures, classifiers, sinks, ...).
    :param plugin_config: the ``plugins:`` section; a plugin reads its own entry,
        ``plugin_config.get("my_plugin", {})``.
    """


@hookspec
def gesturekit_startup() -> None:
    """Called when the pipeline starts, after :func:`gesturekit_configure`."""


@hookspec
def gesturekit_shutdown() -> None:
    """Called once when the pipeline stops (also after errors). Release resources here."""


# ---------------------------------------------------------------------------------------------
# Per frame
# ---------------------------------------------------------------------------------------------


@hookspec
def gesturekit_classify(frame: Frame) -> list[Detection] | None:
    """Classify one Frame into Detections (stateless; the temporal engine adds start/hold/end).

    :param frame: the tracked frame; ``frame.hands`` holds the hands.
    :returns: a list of :class:`gesturekit.Detection` (or ``None`` for nothing).
    """


@hookspec
def gesturekit_frame(frame: Frame, detections: list[Detection]) -> None:
    """Observe every Frame and the Detections all classifiers made for it (recorders,
    dashboards, annotators). Must not modify them."""


@hookspec
def gesturekit_event(event: GestureEvent) -> None:
    """Receive every GestureEvent (a light-weight sink; for heavy or blocking output, register
    a sink factory instead, which gets its own queue and thread)."""
