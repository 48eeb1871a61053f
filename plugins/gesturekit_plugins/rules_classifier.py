"""The ``rules`` classifier: YAML gesture definitions (the built-in library and your own files).

Config section (all optional)::

    classifiers:
      rules:
        gestures: [my_gestures/, extra/wave.yaml]   # files or folders of *.yaml
        builtin: true                                # include the built-in library
        mirrored: false                              # frames are a mirrored selfie view

Uses only gesturekit's public API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import Field, field_validator

from gesturekit import ConfigPath, PluginOptions, hookimpl, options
from gesturekit.classifiers.rules import RulesClassifier, load_library
from gesturekit.settings import validate_options


class RulesOptions(PluginOptions):
    """Options of the ``rules`` classifier."""

    gestures: list[ConfigPath] = Field(default_factory=list,
                                       description="your YAML gesture files or folders of *.yaml (a relative one "
                                                   "is resolved against the config file's folder)")
    builtin: bool = Field(True, strict=True, description="include the built-in gesture library")
    mirrored: bool = Field(False, strict=True,
                           description="the frames are a mirrored selfie view (defines the performer's left/right)")

    @field_validator("gestures", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        if v is None:
            return []
        if isinstance(v, (str, os.PathLike)):
            v = [v]
        if isinstance(v, tuple):
            v = list(v)
        if not isinstance(v, list):
            raise ValueError("expected a list of files or folders")
        return [os.fspath(p) if isinstance(p, os.PathLike) else p for p in v]


@options(RulesOptions)
def make_rules_classifier(config: RulesOptions | Mapping[str, Any] | None = None) -> RulesClassifier:
    """Factory: a :class:`~gesturekit.classifiers.rules.RulesClassifier` from its validated options
    (or its config section as a plain dict)."""
    if isinstance(config, Mapping):
        config = {k: v for k, v in config.items() if k != "type"}
    opts = validate_options(RulesOptions, config)
    return RulesClassifier(load_library(opts.gestures, builtin=opts.builtin), mirrored=opts.mirrored)


@hookimpl(trylast=True)
def gesturekit_register_classifiers() -> dict:
    return {"rules": make_rules_classifier}
