"""YAML gesture rules: the schema and loader, the evaluator, and the rule classifier.

See ``docs/gestures.md`` for the YAML reference and the built-in library.
"""

from gesturekit.classifiers.rules._classifier import RulesClassifier, builtin_library_path, load_library
from gesturekit.classifiers.rules._evaluator import CompiledLibrary, ConditionReport, Evaluation
from gesturekit.classifiers.rules._schema import (
    MAX_GESTURE_BYTES,
    MAX_GESTURE_NODES,
    SCHEMA_VERSION,
    GestureDef,
    GestureErrors,
    check_files,
    check_library,
    library_errors,
    load_definition,
    load_definitions,
    parse_definition,
)
from gesturekit.classifiers.rules.model import GestureFile, gesture_json_schema

__all__ = [
    "SCHEMA_VERSION",
    "MAX_GESTURE_BYTES",
    "MAX_GESTURE_NODES",
    "GestureDef",
    "GestureErrors",
    "GestureFile",
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
    "check_files",
    "library_errors",
    "gesture_json_schema",
]
