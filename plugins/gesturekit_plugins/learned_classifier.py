"""The ``learned`` classifier: a trained model file (``gesturekit train``) or a shipped model.

Config section::

    classifiers:
      hagrid:
        type: learned
        model: hagrid          # a shipped model name (hagrid, asl) or a model file (relative to the config)
        prefix: "hagrid_"      # put before every class name (default: none)
        min_score: 0.6         # lowest probability reported (beside the model's reject threshold)
        only: [like, dislike]  # report only these classes (default: all)

Uses only gesturekit's public API.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from gesturekit import PluginOptions, hookimpl, options
from gesturekit.learn import LearnedClassifier, shipped_models
from gesturekit.settings import validate_options


class LearnedOptions(PluginOptions):
    """Options of the ``learned`` classifier."""

    model: str = Field(..., min_length=1, description="a shipped model name (hagrid, asl) or a model file (.gkm); "
                                                      "a relative file is resolved against the config file's folder")
    prefix: str = Field("", description="put before every class name in the gesture names")
    min_score: float = Field(0.0, ge=0.0, le=1.0, description="lowest probability reported")
    only: list[str] = Field(default_factory=list, description="report only these classes (default: all)")

    @field_validator("model")
    @classmethod
    def _resolve(cls, v: str, info: ValidationInfo) -> str:
        if v in shipped_models() and not os.path.exists(v):
            return v
        base = (info.context or {}).get("base_dir")
        v = os.path.expanduser(v)
        return v if os.path.isabs(v) or not base else os.path.normpath(os.path.join(base, v))


@options(LearnedOptions)
def make_learned_classifier(config: LearnedOptions | Mapping[str, Any] | None = None) -> LearnedClassifier:
    """Factory: a :class:`~gesturekit.learn.LearnedClassifier` from its validated options."""
    if isinstance(config, Mapping):
        config = {k: v for k, v in config.items() if k != "type"}
    opts = validate_options(LearnedOptions, config)
    return LearnedClassifier(opts.model, prefix=opts.prefix, min_score=opts.min_score, only=opts.only or None)


@hookimpl
def gesturekit_register_classifiers() -> dict:
    return {"learned": make_learned_classifier}
