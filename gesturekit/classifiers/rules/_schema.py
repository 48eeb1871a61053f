"""Loading and validating YAML gesture definitions (schema version 1).

YAML is read with a :class:`yaml.SafeLoader` subclass that only records the line of every
mapping key and list item, so that each error names the file, the line and the field. No YAML
tag beyond the safe ones is accepted, and nothing in a definition is ever executed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gesturekit._exceptions import ConfigError
from gesturekit.features import DIRECTIONS, FINGER_NAMES, STATES
from gesturekit.values import KEYPOINT_NAMES, TemporalSpec

__all__ = [
    "SCHEMA_VERSION",
    "Threshold",
    "DirectionCond",
    "DistanceCond",
    "AngleCond",
    "Pose",
    "Motion",
    "Relation",
    "ValueSpec",
    "GestureDef",
    "load_definition",
    "load_definitions",
    "parse_definition",
    "check_library",
]

SCHEMA_VERSION = 1
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_HANDS = ("any", "left", "right", "both")
_KINDS = ("static", "pulse")
_TEMPORAL_FIELDS = ("min_duration", "hold_interval", "update_interval", "release", "cooldown")


# ------------------------------------------------------------------------------------------------
# A SafeLoader that remembers lines
# ------------------------------------------------------------------------------------------------


class _LineDict(dict):
    """A dict that knows the line of itself and of each key (1-based)."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[Any, int] = {}


class _LineList(list):
    """A list that knows the line of itself and of each item (1-based)."""

    line: int = 0

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[int] = []


class _LineLoader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry line numbers; duplicate keys are errors."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> _LineDict:
    loader.flatten_mapping(node)
    d = _LineDict()
    d.line = node.start_mark.line + 1
    for k_node, v_node in node.value:
        key = loader.construct_object(k_node, deep=True)
        line = k_node.start_mark.line + 1
        if key in d:
            raise _DuplicateKey(str(key), line)
        try:
            d[key] = loader.construct_object(v_node, deep=True)
        except TypeError:  # an unhashable key
            raise _DuplicateKey(str(key), line) from None
        d.lines[key] = line
    return d


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> _LineList:
    out = _LineList()
    out.line = node.start_mark.line + 1
    for item in node.value:
        out.append(loader.construct_object(item, deep=True))
        out.lines.append(item.start_mark.line + 1)
    return out


class _DuplicateKey(Exception):
    def __init__(self, key: str, line: int) -> None:
        self.key, self.line = key, line


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def _parse_yaml(text: str, file: str) -> Any:
    for n, line in enumerate(text.splitlines(), 1):
        indent = line[: len(line) - len(line.lstrip(" \t"))]
        if "\t" in indent:
            raise ConfigError("tab character in the indentation; YAML indents with spaces only", file=file, line=n)
    try:
        return yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as e:
        raise ConfigError("duplicate key; each key may appear once", file=file, line=e.line, field=e.key) from None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = e.problem or e.context or "invalid YAML"
        raise ConfigError(f"not valid YAML: {problem}", file=file, line=line) from None
    except yaml.YAMLError as e:
        raise ConfigError(f"not valid YAML: {e}", file=file) from None


# ------------------------------------------------------------------------------------------------
# The definition model
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Threshold:
    """A numeric test with hysteresis: ``below`` and/or ``above`` with enter/exit values.

    A test that holds keeps holding until the value passes the ``exit`` value (looser than
    ``enter``), so it does not flicker at the boundary.
    """

    below_enter: float = math.inf
    below_exit: float = math.inf
    above_enter: float = -math.inf
    above_exit: float = -math.inf

    def describe(self) -> str:
        parts = []
        if math.isfinite(self.below_enter):
            parts.append(f"< {self.below_enter:g}" + (f" (exit {self.below_exit:g})"
                                                      if self.below_exit != self.below_enter else ""))
        if math.isfinite(self.above_enter):
            parts.append(f"> {self.above_enter:g}" + (f" (exit {self.above_exit:g})"
                                                      if self.above_exit != self.above_enter else ""))
        return " and ".join(parts)


@dataclass(frozen=True)
class DirectionCond:
    """A finger (or the palm normal, ``finger == "palm"``) points within ``within`` degrees of
    one of ``directions`` (``exit`` degrees to stop holding)."""

    finger: str
    directions: tuple[str, ...]
    within: float
    exit: float


@dataclass(frozen=True)
class DistanceCond:
    """Distance between two keypoints in palm units."""

    a: str
    b: str
    threshold: Threshold


@dataclass(frozen=True)
class AngleCond:
    """Angle in degrees between the directions of two fingers."""

    a: str
    b: str
    threshold: Threshold


@dataclass(frozen=True)
class Pose:
    """Conditions on one hand's shape; all must hold."""

    fingers: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    directions: tuple[DirectionCond, ...] = ()
    distances: tuple[DistanceCond, ...] = ()
    angles: tuple[AngleCond, ...] = ()


@dataclass(frozen=True)
class Motion:
    """Palm-centre motion over a time window (dynamic gestures).

    :ivar distance: straight-line displacement over the window, palm units.
    :ivar distance_frame: the same displacement as a fraction of the image width (as the two-hand
        value ``distance_frame``).
    :ivar speed: that displacement divided by the time it spans, palm units per second.
    :ivar min_duration: the movement (the palm moving on its way without turning back, within the
        window) has lasted at least this long, seconds.
    :ivar max_duration: ... and at most this long, seconds.
    """

    window: float
    direction: str | None
    within: float
    distance: Threshold
    speed: Threshold
    distance_frame: Threshold = Threshold()
    min_duration: float = 0.0
    max_duration: float = math.inf

    @property
    def has_duration(self) -> bool:
        """Whether the definition tests the movement's duration."""
        return self.min_duration > 0.0 or math.isfinite(self.max_duration)


@dataclass(frozen=True)
class Relation:
    """Two-hand relations: distance between the palms and its change over ``window``."""

    window: float
    distance: Threshold | None
    change: Threshold | None


@dataclass(frozen=True)
class ValueSpec:
    """A continuous value emitted with the gesture."""

    name: str
    between: tuple[str, str] | None = None
    relation: str | None = None


@dataclass(frozen=True)
class GestureDef:
    """One validated gesture definition."""

    name: str
    description: str
    kind: str
    hands: str
    poses: tuple[Pose, ...]
    motion: Motion | None
    relation: Relation | None
    unless: tuple[str, ...]
    values: tuple[ValueSpec, ...]
    temporal: TemporalSpec
    file: str = ""
    line: int = 0
    unless_line: int = 0


# ------------------------------------------------------------------------------------------------
# Validation
# ------------------------------------------------------------------------------------------------


class _Ctx:
    def __init__(self, file: str) -> None:
        self.file = file

    def err(self, msg: str, line: int | None, fld: str) -> ConfigError:
        return ConfigError(msg, file=self.file, line=line or None, field=fld)


def _line_of(container: Any, key: Any, default: int = 0) -> int:
    if isinstance(container, _LineDict):
        return container.lines.get(key, container.line)
    if isinstance(container, _LineList) and isinstance(key, int) and key < len(container.lines):
        return container.lines[key]
    return default


def _type_name(v: Any) -> str:
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


def _mapping(ctx: _Ctx, v: Any, fld: str, line: int, allowed: Iterable[str] | None = None) -> _LineDict:
    if not isinstance(v, dict):
        raise ctx.err(f"expected a mapping, got {_type_name(v)}", line, fld)
    if allowed is not None:
        allowed = tuple(allowed)
        for k in v:
            if k not in allowed:
                raise ctx.err(f"unknown field {k!r}; expected one of: {', '.join(allowed)}", _line_of(v, k, line),
                              f"{fld}.{k}" if fld else str(k))
    return v  # type: ignore[return-value]


def _number(ctx: _Ctx, v: Any, fld: str, line: int, minimum: float | None = None) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ctx.err(f"expected a number, got {_type_name(v)} ({v!r})", line, fld)
    if not math.isfinite(v):
        raise ctx.err("expected a finite number", line, fld)
    if minimum is not None and v < minimum:
        raise ctx.err(f"must be at least {minimum:g}, got {v:g}", line, fld)
    return float(v)


def _string(ctx: _Ctx, v: Any, fld: str, line: int) -> str:
    if not isinstance(v, str):
        raise ctx.err(f"expected a string, got {_type_name(v)} ({v!r})", line, fld)
    return v


def _choice(ctx: _Ctx, v: Any, fld: str, line: int, choices: Sequence[str], what: str) -> str:
    s = _string(ctx, v, fld, line)
    if s not in choices:
        raise ctx.err(f"unknown {what} {s!r}; expected one of: {', '.join(choices)}", line, fld)
    return s


def _choices(ctx: _Ctx, v: Any, fld: str, line: int, choices: Sequence[str], what: str) -> tuple[str, ...]:
    if isinstance(v, list):
        if not v:
            raise ctx.err(f"expected at least one {what}", line, fld)
        return tuple(_choice(ctx, x, f"{fld}[{i}]", _line_of(v, i, line), choices, what) for i, x in enumerate(v))
    return (_choice(ctx, v, fld, line, choices, what),)


def _threshold(ctx: _Ctx, v: Any, fld: str, line: int) -> Threshold:
    """``{below: X}``, ``{above: X}``, each X a number or ``{enter: E, exit: F}``."""
    m = _mapping(ctx, v, fld, line, ("below", "above"))
    if not m:
        raise ctx.err("expected 'below' and/or 'above'", line, fld)
    out: dict[str, float] = {}
    for side in ("below", "above"):
        if side not in m:
            continue
        sv, sl, sf = m[side], _line_of(m, side, line), f"{fld}.{side}"
        if isinstance(sv, dict):
            pair = _mapping(ctx, sv, sf, sl, ("enter", "exit"))
            if "enter" not in pair:
                raise ctx.err("missing field 'enter'", sl, f"{sf}.enter")
            enter = _number(ctx, pair["enter"], f"{sf}.enter", _line_of(pair, "enter", sl))
            ex = _number(ctx, pair.get("exit", enter), f"{sf}.exit", _line_of(pair, "exit", sl))
            if side == "below" and ex < enter:
                raise ctx.err(f"exit ({ex:g}) must be >= enter ({enter:g}) for 'below': a held condition is "
                              "released only when the value rises past exit", _line_of(pair, "exit", sl), f"{sf}.exit")
            if side == "above" and ex > enter:
                raise ctx.err(f"exit ({ex:g}) must be <= enter ({enter:g}) for 'above': a held condition is "
                              "released only when the value falls past exit", _line_of(pair, "exit", sl), f"{sf}.exit")
        else:
            enter = ex = _number(ctx, sv, sf, sl)
        out[f"{side}_enter"], out[f"{side}_exit"] = enter, ex
    t = Threshold(**out)
    if "below" in m and "above" in m and t.above_enter >= t.below_enter:
        raise ctx.err(f"'above' ({t.above_enter:g}) must be less than 'below' ({t.below_enter:g}): nothing could "
                      "satisfy both", line, fld)
    return t


def _angle_tolerance(ctx: _Ctx, m: _LineDict, fld: str, line: int, default: float) -> tuple[float, float]:
    within = _number(ctx, m.get("within", default), f"{fld}.within", _line_of(m, "within", line), 0.0)
    ex = _number(ctx, m.get("exit", within), f"{fld}.exit", _line_of(m, "exit", line), 0.0)
    if within > 180 or ex > 180:
        raise ctx.err("angles are at most 180 degrees", line, fld)
    if ex < within:
        raise ctx.err(f"exit ({ex:g}) must be >= within ({within:g}): a held direction is released only when it "
                      "turns past exit", _line_of(m, "exit", line), f"{fld}.exit")
    return within, ex


def _direction(ctx: _Ctx, finger: str, v: Any, fld: str, line: int) -> DirectionCond:
    names = tuple(DIRECTIONS)
    if isinstance(v, dict):
        m = _mapping(ctx, v, fld, line, ("is", "within", "exit"))
        if "is" not in m:
            raise ctx.err("missing field 'is' (the direction)", line, f"{fld}.is")
        dirs = _choices(ctx, m["is"], f"{fld}.is", _line_of(m, "is", line), names, "direction")
        within, ex = _angle_tolerance(ctx, m, fld, line, 45.0)
        return DirectionCond(finger, dirs, within, ex)
    return DirectionCond(finger, _choices(ctx, v, fld, line, names, "direction"), 45.0, 45.0)


def _keypoint_pair(ctx: _Ctx, v: Any, fld: str, line: int, names: Sequence[str], what: str) -> tuple[str, str]:
    if not isinstance(v, list) or len(v) != 2:
        raise ctx.err(f"expected a list of two {what} names", line, fld)
    a = _choice(ctx, v[0], f"{fld}[0]", _line_of(v, 0, line), names, what)
    b = _choice(ctx, v[1], f"{fld}[1]", _line_of(v, 1, line), names, what)
    return a, b


def _pose(ctx: _Ctx, v: Any, fld: str, line: int) -> Pose:
    m = _mapping(ctx, v, fld, line, ("fingers", "directions", "palm", "distances", "angles"))
    fingers: dict[str, tuple[str, ...]] = {}
    if "fingers" in m:
        fl = _line_of(m, "fingers", line)
        fm = _mapping(ctx, m["fingers"], f"{fld}.fingers", fl)
        for k, s in fm.items():
            kl = _line_of(fm, k, fl)
            _choice(ctx, k, f"{fld}.fingers.{k}", kl, FINGER_NAMES, "finger")
            fingers[k] = _choices(ctx, s, f"{fld}.fingers.{k}", kl, STATES, "finger state")
    dirs: list[DirectionCond] = []
    if "directions" in m:
        dl = _line_of(m, "directions", line)
        dm = _mapping(ctx, m["directions"], f"{fld}.directions", dl)
        for k, s in dm.items():
            kl = _line_of(dm, k, dl)
            _choice(ctx, k, f"{fld}.directions.{k}", kl, FINGER_NAMES, "finger")
            dirs.append(_direction(ctx, k, s, f"{fld}.directions.{k}", kl))
    if "palm" in m:
        dirs.append(_direction(ctx, "palm", m["palm"], f"{fld}.palm", _line_of(m, "palm", line)))
    dists: list[DistanceCond] = []
    angles: list[AngleCond] = []
    for key, out in (("distances", dists), ("angles", angles)):
        if key not in m:
            continue
        ll = _line_of(m, key, line)
        items = m[key]
        if not isinstance(items, list):
            raise ctx.err(f"expected a list, got {_type_name(items)}", ll, f"{fld}.{key}")
        for i, item in enumerate(items):
            il, ifld = _line_of(items, i, ll), f"{fld}.{key}[{i}]"
            im = _mapping(ctx, item, ifld, il, ("between", "below", "above"))
            if "between" not in im:
                raise ctx.err("missing field 'between'", il, f"{ifld}.between")
            names, what = (KEYPOINT_NAMES, "keypoint") if key == "distances" else (FINGER_NAMES, "finger")
            a, b = _keypoint_pair(ctx, im["between"], f"{ifld}.between", _line_of(im, "between", il), names, what)
            th = {k: im[k] for k in ("below", "above") if k in im}
            if not th:
                raise ctx.err("missing field 'below' or 'above'", il, ifld)
            thr = _threshold(ctx, _as_line_dict(th, im), ifld, il)
            out.append(DistanceCond(a, b, thr) if key == "distances" else AngleCond(a, b, thr))  # type: ignore[arg-type]
    for k, states in fingers.items():
        if len(set(states)) == len(STATES):
            raise ctx.err(f"finger {k!r} allows every state, so this condition always holds; name the states it "
                          "may be in, or leave the finger out", _line_of(m.get("fingers"), k, line),
                          f"{fld}.fingers.{k}")
    if not (fingers or dirs or dists or angles):
        raise ctx.err("a pose needs at least one condition: expected 'fingers', 'directions', 'palm', 'distances' "
                      "or 'angles' (an empty pose would hold on every hand)", line, fld)
    return Pose(fingers, tuple(dirs), tuple(dists), tuple(angles))


def _as_line_dict(d: Mapping[str, Any], parent: _LineDict) -> _LineDict:
    out = _LineDict()
    out.line = parent.line
    for k, v in d.items():
        out[k] = v
        out.lines[k] = parent.lines.get(k, parent.line)
    return out


_MOTION_FIELDS = ("window", "direction", "within", "distance", "distance_frame", "speed", "min_duration",
                  "max_duration")


def _motion(ctx: _Ctx, v: Any, line: int) -> Motion:
    m = _mapping(ctx, v, "motion", line, _MOTION_FIELDS)
    if "window" not in m:
        raise ctx.err("missing field 'window' (seconds)", line, "motion.window")
    window = _number(ctx, m["window"], "motion.window", _line_of(m, "window", line), 0.01)
    direction = None
    if "direction" in m:
        direction = _choice(ctx, m["direction"], "motion.direction", _line_of(m, "direction", line),
                            tuple(d for d in DIRECTIONS if d not in ("forward", "back")), "direction")
    within = _number(ctx, m.get("within", 45.0), "motion.within", _line_of(m, "within", line), 0.0)
    if within > 180:
        raise ctx.err("angles are at most 180 degrees", _line_of(m, "within", line), "motion.within")
    ths = {k: _threshold(ctx, m[k], f"motion.{k}", _line_of(m, k, line)) if k in m else Threshold()
           for k in ("distance", "distance_frame", "speed")}
    if not any(k in m for k in ("distance", "distance_frame", "speed")):
        raise ctx.err("a motion needs 'distance' (palm units), 'distance_frame' (fraction of the image width) "
                      "and/or 'speed'", line, "motion")
    lo = _number(ctx, m.get("min_duration", 0.0), "motion.min_duration", _line_of(m, "min_duration", line), 0.0)
    hi = _number(ctx, m["max_duration"], "motion.max_duration", _line_of(m, "max_duration", line), 0.0) \
        if "max_duration" in m else math.inf
    if lo > window:
        raise ctx.err(f"min_duration ({lo:g}) must be at most the window ({window:g}): the movement is measured "
                      "within the window", _line_of(m, "min_duration", line), "motion.min_duration")
    if hi < lo:
        raise ctx.err(f"max_duration ({hi:g}) must be >= min_duration ({lo:g})", _line_of(m, "max_duration", line),
                      "motion.max_duration")
    return Motion(window, direction, within, ths["distance"], ths["speed"], ths["distance_frame"], lo, hi)


def _relation(ctx: _Ctx, v: Any, line: int) -> Relation:
    m = _mapping(ctx, v, "relation", line, ("window", "distance", "change"))
    window = _number(ctx, m.get("window", 0.3), "relation.window", _line_of(m, "window", line), 0.01)
    dist = _threshold(ctx, m["distance"], "relation.distance", _line_of(m, "distance", line)) if "distance" in m \
        else None
    change = _threshold(ctx, m["change"], "relation.change", _line_of(m, "change", line)) if "change" in m else None
    if dist is None and change is None:
        raise ctx.err("a relation needs 'distance' and/or 'change'", line, "relation")
    return Relation(window, dist, change)


def _values(ctx: _Ctx, v: Any, line: int, hands: str) -> tuple[ValueSpec, ...]:
    m = _mapping(ctx, v, "values", line)
    out = []
    for name, spec in m.items():
        nl, fld = _line_of(m, name, line), f"values.{name}"
        if not isinstance(name, str) or not _NAME.match(name):
            raise ctx.err("a value name is lower_case letters, digits and _", nl, fld)
        sm = _mapping(ctx, spec, fld, nl, ("between", "relation"))
        if len(sm) != 1:
            raise ctx.err("expected exactly one of 'between' (two keypoints) or 'relation'", nl, fld)
        if "between" in sm:
            a, b = _keypoint_pair(ctx, sm["between"], f"{fld}.between", _line_of(sm, "between", nl), KEYPOINT_NAMES,
                                  "keypoint")
            out.append(ValueSpec(name, between=(a, b)))
        else:
            rel = _choice(ctx, sm["relation"], f"{fld}.relation", _line_of(sm, "relation", nl),
                          ("distance", "distance_frame", "change"), "relation value")
            if hands != "both":
                raise ctx.err("relation values need 'hands: both'", nl, f"{fld}.relation")
            out.append(ValueSpec(name, relation=rel))
    return tuple(out)


def _temporal(ctx: _Ctx, v: Any, line: int, kind: str) -> TemporalSpec:
    base = TemporalSpec() if kind == "static" else TemporalSpec(min_duration=0.0, hold_interval=0.0,
                                                                update_interval=0.0, release=0.0, cooldown=0.3)
    if v is None:
        return base
    m = _mapping(ctx, v, "temporal", line, _TEMPORAL_FIELDS)
    kw = {k: _number(ctx, m[k], f"temporal.{k}", _line_of(m, k, line), 0.0) for k in m}
    return TemporalSpec(**{**{k: getattr(base, k) for k in _TEMPORAL_FIELDS}, **kw})


_TOP = ("gesturekit", "name", "description", "kind", "hands", "pose", "any_pose", "motion", "relation", "unless",
        "values", "temporal")


def parse_definition(data: Any, file: str = "<string>") -> GestureDef:
    """Validate one parsed YAML document (with line info when it came from :func:`load_definition`)."""
    ctx = _Ctx(file)
    line = getattr(data, "line", 1)
    m = _mapping(ctx, data, "", line, _TOP)
    if "gesturekit" not in m:
        raise ctx.err(f"missing field 'gesturekit' (the schema version, {SCHEMA_VERSION})", line, "gesturekit")
    ver = m["gesturekit"]
    if isinstance(ver, bool) or ver != SCHEMA_VERSION:
        raise ctx.err(f"unsupported schema version {ver!r}; this gesturekit reads version {SCHEMA_VERSION}",
                      _line_of(m, "gesturekit", line), "gesturekit")
    if "name" not in m:
        raise ctx.err("missing field 'name'", line, "name")
    name = _string(ctx, m["name"], "name", _line_of(m, "name", line))
    if not _NAME.match(name):
        raise ctx.err(f"invalid name {name!r}: use lower_case letters, digits and _", _line_of(m, "name", line),
                      "name")
    desc = _string(ctx, m.get("description", ""), "description", _line_of(m, "description", line))
    kind = _choice(ctx, m.get("kind", "static"), "kind", _line_of(m, "kind", line), _KINDS, "kind")
    hands = _choice(ctx, m.get("hands", "any"), "hands", _line_of(m, "hands", line), _HANDS, "hands")
    if "pose" in m and "any_pose" in m:
        raise ctx.err("use either 'pose' or 'any_pose', not both", _line_of(m, "any_pose", line), "any_pose")
    poses: tuple[Pose, ...] = (Pose(),)
    if "pose" in m:
        poses = (_pose(ctx, m["pose"], "pose", _line_of(m, "pose", line)),)
    elif "any_pose" in m:
        al = _line_of(m, "any_pose", line)
        items = m["any_pose"]
        if not isinstance(items, list) or not items:
            raise ctx.err("expected a non-empty list of poses", al, "any_pose")
        poses = tuple(_pose(ctx, p, f"any_pose[{i}]", _line_of(items, i, al)) for i, p in enumerate(items))
    motion = _motion(ctx, m["motion"], _line_of(m, "motion", line)) if "motion" in m else None
    if motion is not None and kind != "pulse":
        raise ctx.err("a 'motion' gesture must be 'kind: pulse'", _line_of(m, "motion", line), "motion")
    if kind == "pulse" and motion is None:
        raise ctx.err("a 'pulse' gesture needs a 'motion'", _line_of(m, "kind", line), "kind")
    relation = _relation(ctx, m["relation"], _line_of(m, "relation", line)) if "relation" in m else None
    if relation is not None and hands != "both":
        raise ctx.err("'relation' needs 'hands: both'", _line_of(m, "relation", line), "relation")
    if hands == "both" and motion is not None:
        raise ctx.err("two-hand gestures take a 'relation', not a 'motion'", _line_of(m, "motion", line), "motion")
    unless: tuple[str, ...] = ()
    if "unless" in m:
        ul = _line_of(m, "unless", line)
        u = m["unless"]
        items = u if isinstance(u, list) else [u]
        unless = tuple(_string(ctx, x, f"unless[{i}]", _line_of(u, i, ul)) for i, x in enumerate(items))
    values = _values(ctx, m["values"], _line_of(m, "values", line), hands) if "values" in m else ()
    temporal = _temporal(ctx, m.get("temporal"), _line_of(m, "temporal", line), kind)
    if "pose" not in m and "any_pose" not in m and motion is None and relation is None:
        raise ctx.err("the gesture has no condition and would hold on every hand; expected 'pose' (or "
                      "'any_pose'), 'motion' or 'relation'", line, "pose")
    return GestureDef(name, desc, kind, hands, poses, motion, relation, unless, values, temporal, file, line,
                      _line_of(m, "unless", line))


def load_definition(path: str | Path) -> GestureDef:
    """Read and validate one YAML gesture file; :class:`ConfigError` names file, line and field."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("gesture file not found", file=str(p)) from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read gesture file: {e}", file=str(p)) from None
    data = _parse_yaml(text, str(p))
    if data is None:
        raise ConfigError("the file is empty; expected a gesture definition", file=str(p), line=1)
    return parse_definition(data, str(p))


def load_definitions(paths: Iterable[str | Path], check: bool = True) -> list[GestureDef]:
    """Load several files (folders: every ``*.yaml``/``*.yml`` inside), then (``check``) check them
    together: unique names, ``unless`` names that exist, no ``unless`` cycles."""
    files: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        else:
            files.append(p)
    defs = [load_definition(f) for f in files]
    if check:
        check_library(defs)
    return defs


def check_library(defs: Sequence[GestureDef]) -> None:
    """Cross-definition checks: duplicate names, unknown ``unless`` references, cycles."""
    seen: dict[str, GestureDef] = {}
    for d in defs:
        if d.name in seen:
            first = seen[d.name]
            raise ConfigError(f"duplicate gesture name {d.name!r} (also defined in {first.file}:{first.line})",
                              file=d.file, line=d.line, field="name")
        seen[d.name] = d
    for d in defs:
        for u in d.unless:
            if u not in seen:
                raise ConfigError(f"unknown gesture {u!r} referenced; known: {', '.join(sorted(seen))}",
                                  file=d.file, line=d.unless_line, field="unless")
            other = seen[u]
            if other.hands != d.hands and "both" in (other.hands, d.hands):
                raise ConfigError(f"gesture {u!r} is a {'two' if other.hands == 'both' else 'one'}-hand gesture; "
                                  "'unless' must refer to gestures with the same number of hands",
                                  file=d.file, line=d.unless_line, field="unless")
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            d = seen[path[0]]
            raise ConfigError(f"'unless' forms a cycle: {' -> '.join([*path, name])}", file=d.file,
                              line=d.unless_line, field="unless")
        state[name] = 1
        for u in seen[name].unless:
            visit(u, [*path, name])
        state[name] = 2

    for d in defs:
        visit(d.name, [])
