"""What a config reload (SIGHUP) changes: :func:`plan_reload` reads and validates the new config
and builds only what changed, before anything running is touched; a config that does not
validate raises and the running one is kept."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from gesturekit.chain.builder import Chain, ChainParts, build_sinks
from gesturekit.daemon.config import load_config
from gesturekit.settings import Settings

__all__ = ["ReloadPlan", "plan_reload", "parts_changed"]

log = logging.getLogger("gesturekit.daemon")


@dataclass
class ReloadPlan:
    """The changes from the running config to ``config``.

    :ivar sinks: sinks whose section changed or that are new (or failed before), built anew.
    :ivar removed: names of sinks the new config no longer has.
    :ivar kept: sinks that keep running untouched (their clients stay connected).
    :ivar parts: the new tracker options, classifiers, engine and observers, or ``None`` when
        none of those sections changed.
    :ivar source_changed: the source section changed (its gestures end, it is reopened).
    """

    config: Settings
    sinks: dict[str, Any] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    parts: ChainParts | None = None
    source_changed: bool = False


def parts_changed(old: Settings, new: Settings) -> bool:
    """Whether the chain between source and bus must be rebuilt for ``new``."""
    def live(s: Settings) -> bool:
        return bool(s.source is not None and s.source.live)

    return ((new.tracker, new.gestures, new.classifiers, new.temporal, new.observers)
            != (old.tracker, old.gestures, old.classifiers, old.temporal, old.observers) or live(new) != live(old))


def plan_reload(old: Settings, chain: Chain, retry: Iterable[str] = (), new: Settings | None = None) -> ReloadPlan:
    """Read ``old.path`` again (or take ``new``) and build what changed; sinks named in ``retry``
    (they failed to start before) are built again even if their section is the same.

    :raises GestureKitError: (or anything a third-party factory raises) when the new config is
        invalid; nothing running has been touched then.
    """
    new = new if new is not None else load_config(old.path)
    if new.plugin_paths != old.plugin_paths:
        log.warning("plugin_paths changed: that takes a restart; the other changes are applied")
    retry = set(retry)
    old_sinks, new_sinks = old.enabled_sinks(), new.enabled_sinks()
    changed = [n for n in new_sinks if old_sinks.get(n) != new_sinks[n] or n in retry]
    return ReloadPlan(
        config=new,
        sinks=build_sinks(chain.pm, new, changed),
        removed=[n for n in old_sinks if n not in new_sinks],
        kept=[n for n in new_sinks if n not in changed],
        parts=chain.build_parts(new) if parts_changed(old, new) else None,
        source_changed=new.source != old.source,
    )
