"""The YAML gesture-file format (schema version 1) as pydantic models, and its JSON Schema.

These models are the structural validator of every gesture file: :mod:`._schema` parses a
file with :class:`GestureFile` (types, names, ranges, unknown and missing fields, each error
with its path), then runs the checks that span several fields (hysteresis order, a pulse needs
a motion, ...) and builds the frozen :class:`~gesturekit.classifiers.rules.GestureDef`.
:func:`gesture_json_schema` is generated from the same models, so an editor that reads it
(``# yaml-language-server: $schema=...``) checks what gesturekit checks, and shows the field
descriptions below (taken from ``docs/gestures.md``) as help.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NoReturn, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag
from pydantic_core import PydanticCustomError

from gesturekit.features import DIRECTIONS, FINGER_NAMES, STATES
from gesturekit.values import KEYPOINT_NAMES

__all__ = [
    "SCHEMA_VERSION",
    "GestureFile",
    "PoseModel",
    "DirectionTest",
    "DistanceTest",
    "AngleTest",
    "EnterExit",
    "ThresholdModel",
    "MotionModel",
    "RelationModel",
    "ValueModel",
    "TemporalModel",
    "gesture_json_schema",
    "describe_type",
    "short_repr",
    "UNION_TAGS",
]

SCHEMA_VERSION = 1
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
_NAME = re.compile(NAME_PATTERN)
MOTION_DIRECTIONS = tuple(d for d in DIRECTIONS if d not in ("forward", "back"))
RELATION_VALUES = ("distance", "distance_frame", "change")

#: Names of the branches of the "this or that" fields; they appear in pydantic error locations
#: and are no part of a field path.
UNION_TAGS = frozenset({"<number>", "<enter/exit>", "<one>", "<list>", "<test>", "<names>"})


# ------------------------------------------------------------------------------------------------
# Messages: short, never the repr of a big value
# ------------------------------------------------------------------------------------------------


def describe_type(v: Any) -> str:
    """``"a mapping"``, ``"a list"``, ``"a number"``, ... for a YAML value."""
    if isinstance(v, dict):
        return "a mapping"
    if isinstance(v, list):
        return "a list"
    if isinstance(v, bool):
        return "true/false"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if v is None:
        return "nothing"
    return type(v).__name__


def short_repr(v: Any, limit: int = 40) -> str:
    """``repr(v)`` of a scalar, cut to ``limit`` characters (``""`` for a mapping or list, whose
    repr could be huge: a YAML alias bomb is a few hundred bytes that expand to gigabytes)."""
    if isinstance(v, (dict, list, tuple, set)):
        return ""
    text = repr(v) if isinstance(v, (str, int, float, bool)) or v is None else f"<{type(v).__name__}>"
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _got(v: Any) -> str:
    r = short_repr(v)
    return f"got {describe_type(v)}" + (f" ({r})" if r and v is not None else "")


def _fail(message: str) -> NoReturn:
    raise PydanticCustomError("gesture", "{message}", {"message": message})


# ------------------------------------------------------------------------------------------------
# Field types
# ------------------------------------------------------------------------------------------------


def _choice(what: str, names: tuple[str, ...]) -> Any:
    """A string out of ``names``; the error says which kind of name it expected."""

    def check(v: Any) -> Any:
        if not isinstance(v, str):
            _fail(f"expected a string, {_got(v)}")
        if v not in names:
            _fail(f"unknown {what} {short_repr(v)}; expected one of: {', '.join(names)}")
        return v

    return Annotated[Literal[names], BeforeValidator(check)]  # type: ignore[valid-type]


def _one_or_list(item: Any, what: str, description: str) -> Any:
    """``item`` or a non-empty list of them (any of them)."""

    def nonempty(v: Any) -> Any:
        if isinstance(v, list) and not v:
            _fail(f"expected at least one {what}")
        return v

    return Annotated[
        Union[
            Annotated[item, Tag("<one>")],
            Annotated[list[item], Field(min_length=1), BeforeValidator(nonempty), Tag("<list>")],  # type: ignore[valid-type]
        ],
        Discriminator(lambda v: "<list>" if isinstance(v, list) else "<one>"),
        Field(description=description),
    ]


def _pair(item: Any, what: str) -> Any:
    """A list of exactly two ``item`` names."""

    def two(v: Any) -> Any:
        if not isinstance(v, list) or len(v) != 2:
            _fail(f"expected a list of two {what} names")
        return v

    return Annotated[list[item], Field(min_length=2, max_length=2), BeforeValidator(two)]  # type: ignore[valid-type]


def _name(v: Any) -> Any:
    if isinstance(v, str) and not _NAME.match(v):
        _fail(f"invalid name {short_repr(v)}: use lower_case letters, digits and _")
    return v


def _value_name(v: Any) -> Any:
    if not isinstance(v, str) or not _NAME.match(v):
        _fail("a value name is lower_case letters, digits and _")
    return v


def _version(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v != SCHEMA_VERSION:
        _fail(f"unsupported schema version {short_repr(v) or describe_type(v)}; this gesturekit reads version "
              f"{SCHEMA_VERSION}")
    return SCHEMA_VERSION


Finger = _choice("finger", FINGER_NAMES)
State = _choice("finger state", STATES)
Direction = _choice("direction", tuple(DIRECTIONS))
MotionDirection = _choice("direction", MOTION_DIRECTIONS)
Keypoint = _choice("keypoint", KEYPOINT_NAMES)
Seconds = Annotated[float, Field(ge=0)]
Degrees = Annotated[float, Field(ge=0, le=180)]
Window = Annotated[float, Field(ge=0.01)]

States = _one_or_list(State, "finger state", "a finger state, or a list of states (any of them): extended, half, "
                                             "curled")
Directions = _one_or_list(Direction, "direction", "a direction, or a list of directions (any of them): up, down, "
                                                  "left, right (the performer's), forward (toward the camera), back")


class _Model(BaseModel):
    # strict: a YAML string is never read as a number, nor true/false as 1/0
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


# ------------------------------------------------------------------------------------------------
# Thresholds
# ------------------------------------------------------------------------------------------------


class EnterExit(_Model):
    """A threshold with hysteresis: the test starts holding when the value passes ``enter`` and
    keeps holding until it passes ``exit``."""

    enter: float = Field(description="the value at which the test starts holding")
    exit: float = Field(None, description="the value past which a held test stops holding (default: enter); for "
                                          "'below' it must be >= enter, for 'above' <= enter")


ThresholdValue = Annotated[
    Union[Annotated[float, Tag("<number>")], Annotated[EnterExit, Tag("<enter/exit>")]],
    Discriminator(lambda v: "<enter/exit>" if isinstance(v, dict) else "<number>"),
]
_BELOW = "the value is below this number, or an {enter, exit} pair (exit >= enter) for hysteresis"
_ABOVE = "the value is above this number, or an {enter, exit} pair (exit <= enter) for hysteresis"


class ThresholdModel(_Model):
    """A numeric test: ``below`` and/or ``above``, each a number or an ``{enter, exit}`` pair."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    below: ThresholdValue = Field(None, description=_BELOW)
    above: ThresholdValue = Field(None, description=_ABOVE)


_BELOW_OR_ABOVE = {"anyOf": [{"required": ["below"]}, {"required": ["above"]}]}


# ------------------------------------------------------------------------------------------------
# Pose
# ------------------------------------------------------------------------------------------------


class DirectionTest(_Model):
    """The finger (base joint to tip) or the palm points within ``within`` degrees of one of the
    directions; once held, until it turns past ``exit``."""

    is_: Directions = Field(alias="is", description="the direction, or a list of directions (any of them)")
    within: Degrees = Field(45.0, description="degrees around the direction (default 45)")
    exit: Degrees = Field(None, description="degrees past which a held direction is released (default: within); "
                                            "must be >= within")
    plane: _choice("plane", ("view", "image")) = Field(  # type: ignore[valid-type]
        "view", description="'view' (default): the direction in 3D, with MediaPipe's depth; 'image': the direction "
                            "seen in the image plane (depth ignored), for a finger that may point at the camera")


DirectionSpec = Annotated[
    Union[Annotated[Directions, Tag("<names>")], Annotated[DirectionTest, Tag("<test>")]],
    Discriminator(lambda v: "<test>" if isinstance(v, dict) else "<names>"),
]


class DistanceTest(_Model):
    """Distance between two keypoints, in palm units (one palm unit is the hand's mean
    wrist-to-knuckle distance, about 8-9 cm)."""

    model_config = ConfigDict(json_schema_extra=_BELOW_OR_ABOVE)

    between: _pair(Keypoint, "keypoint") = Field(  # type: ignore[valid-type]
        description="two keypoint names (gesturekit.HandLandmark in lower case: wrist, thumb_tip, "
                    "index_finger_tip, ...)")
    below: ThresholdValue = Field(None, description=_BELOW)
    above: ThresholdValue = Field(None, description=_ABOVE)


class AngleTest(_Model):
    """Angle between two fingers' directions, in degrees."""

    model_config = ConfigDict(json_schema_extra=_BELOW_OR_ABOVE)

    between: _pair(Finger, "finger") = Field(description="two finger names")  # type: ignore[valid-type]
    below: ThresholdValue = Field(None, description=_BELOW)
    above: ThresholdValue = Field(None, description=_ABOVE)


class PoseModel(_Model):
    """Conditions on one hand's shape; all must hold (at least one condition)."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    fingers: dict[Finger, States] = Field(  # type: ignore[valid-type]
        None, description="finger -> state or [states]: fingers thumb, index, middle, ring, pinky; states extended, "
                          "half, curled; a list means any of them; fingers not named are free")
    directions: dict[Finger, DirectionSpec] = Field(  # type: ignore[valid-type]
        None, description="finger -> direction, or {is: dir or [dirs], within: deg, exit: deg}: the finger (base "
                          "joint to tip) points within 'within' degrees (default 45) of one of the directions")
    palm: DirectionSpec = Field(None, description="the palm faces that way (forward = toward the camera, back = the "
                                                  "performer sees their palm); same forms as a direction")
    distances: list[DistanceTest] = Field(None, description="distances between two keypoints in palm units")
    angles: list[AngleTest] = Field(None, description="angles between two fingers' directions, degrees")


# ------------------------------------------------------------------------------------------------
# Motion, relation, values, temporal
# ------------------------------------------------------------------------------------------------


class MotionModel(_Model):
    """Palm-centre motion over a time window (``kind: pulse``); all its fields must hold. Needs
    ``distance``, ``distance_frame`` and/or ``speed``."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["distance"]},
                                                           {"required": ["distance_frame"]},
                                                           {"required": ["speed"]}]})

    window: Window = Field(description="seconds of the hand's history in view looked at (required)")
    direction: MotionDirection = Field(  # type: ignore[valid-type]
        None, description="up, down, left or right (the performer's); omit for any direction")
    within: Degrees = Field(45.0, description="degrees around the direction (default 45)")
    distance: ThresholdModel = Field(None, description="straight-line displacement over the window, palm units "
                                                       "(follows the hand's size)")
    distance_frame: ThresholdModel = Field(None, description="the same displacement as a fraction of the image "
                                                             "width (the path on screen, whatever the hand's size)")
    speed: ThresholdModel = Field(None, description="distance divided by the time the window spans, palm units per "
                                                    "second")
    min_duration: Seconds = Field(0.0, description="seconds the palm has been moving this way without stopping or "
                                                   "turning back, within the window (at most window)")
    max_duration: Seconds = Field(None, description="... and at most this long, seconds (>= min_duration)")


class RelationModel(_Model):
    """Two-hand relation (``hands: both``): distance between the palm centres and its change.
    Needs ``distance`` and/or ``change``."""

    model_config = ConfigDict(json_schema_extra={"anyOf": [{"required": ["distance"]}, {"required": ["change"]}]})

    window: Window = Field(0.3, description="seconds over which 'change' is measured (default 0.3)")
    distance: ThresholdModel = Field(None, description="palm centres apart, palm units")
    change: ThresholdModel = Field(None, description="growth of that distance within the window, palm units")


class ValueModel(_Model):
    """A continuous value sent with the events: exactly one of ``between`` or ``relation``."""

    model_config = ConfigDict(json_schema_extra={"oneOf": [{"required": ["between"]}, {"required": ["relation"]}]})

    between: _pair(Keypoint, "keypoint") = Field(  # type: ignore[valid-type]
        None, description="distance between two keypoints, palm units (per hand; two hands: the mean)")
    relation: _choice("relation value", RELATION_VALUES) = Field(  # type: ignore[valid-type]
        None, description="two-hand only (hands: both): distance (palm units), distance_frame (fraction of the "
                          "image width) or change")


class TemporalModel(_Model):
    """Timing in the temporal engine, seconds. Defaults differ by kind (static / pulse)."""

    min_duration: Seconds = Field(None, description="the pose must hold this long before 'start' (static 0.1, "
                                                    "pulse 0)")
    hold_interval: Seconds = Field(None, description="'hold' repeats at this interval, 0 = never (static 0.5, "
                                                     "pulse 0)")
    update_interval: Seconds = Field(None, description="'update' (values changed) at most this often (static 0.1, "
                                                       "pulse 0)")
    release: Seconds = Field(None, description="grace period without the pose before 'end' (static 0.2, pulse 0)")
    cooldown: Seconds = Field(None, description="after 'end' or a pulse, no new start for this long (static 0, "
                                                "pulse 0.3)")


# ------------------------------------------------------------------------------------------------
# The file
# ------------------------------------------------------------------------------------------------


def _any_poses(v: Any) -> Any:
    if not isinstance(v, list) or not v:
        _fail("expected a non-empty list of poses")
    return v


_FILE_RULES: dict[str, Any] = {"allOf": [
    # a definition needs a condition
    {"anyOf": [{"required": ["pose"]}, {"required": ["any_pose"]}, {"required": ["motion"]},
               {"required": ["relation"]}]},
    {"not": {"required": ["pose", "any_pose"]}},
    # motion <-> kind: pulse; relation -> hands: both; a two-hand gesture has no motion
    {"if": {"required": ["kind"], "properties": {"kind": {"const": "pulse"}}}, "then": {"required": ["motion"]}},
    {"if": {"required": ["motion"]}, "then": {"required": ["kind"], "properties": {"kind": {"const": "pulse"}}}},
    {"if": {"required": ["relation"]}, "then": {"required": ["hands"], "properties": {"hands": {"const": "both"}}}},
    {"if": {"required": ["hands"], "properties": {"hands": {"const": "both"}}},
     "then": {"not": {"required": ["motion"]}}},
]}


class GestureFile(_Model):
    """One gesturekit gesture definition (a YAML file, schema version 1). Unknown fields are
    errors. It needs at least one condition: a pose (or any_pose), a motion or a relation."""

    model_config = ConfigDict(json_schema_extra=_FILE_RULES)

    gesturekit: Annotated[Literal[1], BeforeValidator(_version)] = Field(
        description="the schema version (required): 1")
    name: Annotated[str, BeforeValidator(_name), Field(pattern=NAME_PATTERN)] = Field(
        description="the gesture's name in events and configs (required): lower_case letters, digits and _; unique "
                    "across all files, built-in library included")
    description: str = Field("", description="what the performer does (shown by 'gesturekit gestures list')")
    kind: _choice("kind", ("static", "pulse")) = Field(  # type: ignore[valid-type]
        "static", description="static (default): holds while the pose holds (start/hold/update/end events); pulse: "
                              "reported once when a motion completes (needs a motion)")
    hands: _choice("hands", ("any", "left", "right", "both")) = Field(  # type: ignore[valid-type]
        "any", description="which hand: any (default), left, right (the anatomical hand), or both: a two-hand "
                           "gesture whose pose must hold on both hands; it may have a relation")
    pose: PoseModel = Field(None, description="conditions on the hand's shape; all must hold")
    any_pose: Annotated[list[PoseModel], Field(min_length=1), BeforeValidator(_any_poses)] = Field(
        None, description="alternative poses: the gesture holds when any one holds (instead of pose)")
    motion: MotionModel = Field(None, description="palm motion over a time window (for kind: pulse)")
    relation: RelationModel = Field(None, description="two-hand distance and its change (for hands: both)")
    unless: _one_or_list(str, "gesture name", "the gesture does not hold where one of these gestures holds on the "
                                              "same hand (or pair)") = None  # type: ignore[valid-type]
    values: dict[Annotated[str, BeforeValidator(_value_name), Field(pattern=NAME_PATTERN)], ValueModel] = Field(
        None, description="continuous values to emit with the events: name -> {between: [kp, kp]} or "
                          "{relation: distance | distance_frame | change}")
    temporal: Union[TemporalModel, None] = Field(None, description="timing in the temporal engine, seconds: "
                                                                   "min_duration, hold_interval, update_interval, "
                                                                   "release, cooldown")


# ------------------------------------------------------------------------------------------------
# JSON Schema
# ------------------------------------------------------------------------------------------------

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def _tidy(node: Any) -> Any:
    """Drop what pydantic adds that helps no editor: ``default: null`` (an absent field) and the
    title it makes of each property name."""
    if isinstance(node, dict):
        out: dict[str, Any] = {}
        for k, v in node.items():
            if k == "default" and v is None:
                continue
            if k == "properties" and isinstance(v, dict):
                out[k] = {name: {pk: pv for pk, pv in _tidy(prop).items() if pk != "title"}
                          for name, prop in v.items()}
            else:
                out[k] = _tidy(v)
        return out
    if isinstance(node, list):
        return [_tidy(v) for v in node]
    return node


def gesture_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a gesture file, generated from :class:`GestureFile`.

    Editors use it for completion, hover help and validation; ``gesturekit schema gesture``
    prints it. It checks the structure and the simple cross-field rules; a few checks need
    numbers from two fields (hysteresis order, ``min_duration`` within ``window``) or several
    files (unique names, ``unless``) and are made by ``gesturekit gestures validate`` only.
    """
    schema = _tidy(GestureFile.model_json_schema(by_alias=True, mode="validation"))
    head = {"$schema": JSON_SCHEMA_DIALECT, "title": f"gesturekit gesture definition (schema version {SCHEMA_VERSION})"}
    schema.pop("title", None)
    return {**head, **schema}
