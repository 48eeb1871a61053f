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

from collections.abc import Mapping
from typing import Any

from gesturekit import hookimpl
from gesturekit.classifiers.rules import RulesClassifier


def make_rules_classifier(config: Mapping[str, Any] | None = None) -> RulesClassifier:
    """Factory: a :class:`~gesturekit.rules.RulesClassifier` from its config section."""
    return RulesClassifier.from_config(config)


@hookimpl(trylast=True)
def gesturekit_register_classifiers() -> dict:
    return {"rules": make_rules_classifier}
