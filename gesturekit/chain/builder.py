"""Assemble the default processing chain: the configured classifiers and the temporal engine."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gesturekit.temporal import TemporalEngine, TemporalSpec

__all__ = ["build_classifiers", "build_engine"]

log = logging.getLogger("gesturekit.chain.builder")


def build_classifiers(pm, mirrored: bool = False) -> dict:  # noqa: ANN001
    """The default classifiers for ``detect`` and ``run``: the ``rules`` classifier with the
    built-in gesture library. ``mirrored`` (the tracker's setting: a selfie camera view) tells
    the rules which way the performer's left is; files and images are not mirrored."""
    from gesturekit.chain.plugin_manager import collect_factories

    factories = collect_factories(pm, "classifiers")
    if "rules" not in factories:
        return {}
    return {"rules": factories["rules"]({"builtin": True, "mirrored": bool(mirrored)})}


def build_engine(classifiers: Mapping[str, Any], source: str = "", instant: bool = False) -> TemporalEngine:
    """The temporal engine for ``run``, ``demo`` and the daemon: per-gesture timing from every
    classifier in ``classifiers`` that has ``temporal_specs()``; other gestures get the default.

    ``instant`` (independent still images) drops the minimum duration, so that a gesture seen in
    one image starts at once; the pipeline ends it with the image.
    """
    specs: dict[str, TemporalSpec] = {}
    for name, clf in classifiers.items():
        get = getattr(clf, "temporal_specs", None)
        if not callable(get):
            continue
        for gesture, spec in dict(get() or {}).items():
            if gesture in specs and specs[gesture] != spec:
                log.warning("classifier %r sets other timing for %r than an earlier classifier; using %r's",
                            name, gesture, name)
            specs[gesture] = spec
    default = TemporalSpec()
    if instant:
        specs = {g: replace(s, min_duration=0.0) for g, s in specs.items()}
        default = replace(default, min_duration=0.0)
    return TemporalEngine(specs, default=default, source=source)
