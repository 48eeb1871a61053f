"""YAML gesture rules: the schema and loader, the evaluator, and the rule classifier.

See ``docs/gestures.md`` for the YAML reference and the built-in library.
"""

from gesturekit.classifiers.rules._classifier import RulesClassifier, builtin_library_path, load_library
from gesturekit.classifiers.rules._evaluator import CompiledLibrary, ConditionReport, Evaluation
from gesturekit.classifiers.rules._schema import (
    SCHEMA_VERSION,
    GestureDef,
    check_library,
    load_definition,
    load_definitions,
    parse_definition,
)

__all__ = [
    "SCHEMA_VERSION",
    "GestureDef",
    "RulesClassifier",
    "CompiledLibrary",
    "ConditionReport",
    "Evaluation",
    "builtin_library_path",
    "load_library",
    "load_definition",
    "load_definitions",
    "parse_definition",
    "check_library",
]
