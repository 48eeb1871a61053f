"""Loading and validating YAML gesture definitions (schema version 1).

A file is read with :func:`gesturekit.util.safeyaml.load_yaml_file` (safe tags only, a size limit
of :data:`MAX_GESTURE_BYTES` and an alias-expansion limit of :data:`MAX_GESTURE_NODES` checked
before anything is built, duplicate keys and tabs refused, the line of every key kept). The
document is then validated in two steps, and every error names the file, the line and the field
(``wave.yaml:5: pose.fingers.index: unknown finger state 'straight'; ...``):

1. structure, by the pydantic models of :mod:`gesturekit.classifiers.rules.model` (the same
   models generate the JSON Schema that editors use): types, names, ranges, unknown and missing
   fields; every such error of the file is reported;
2. the rules that span fields (hysteresis order, a pulse needs a motion, a pose needs a
   condition, ...), which build the frozen :class:`GestureDef` the evaluator compiles.

:func:`check_library` then checks definitions together (unique names, ``unless``).
:func:`check_files` runs all of it over many files and returns every error instead of raising
the first (``gesturekit gestures validate``).
"""

from __future__ import annotations

import math
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from gesturekit._exceptions import ConfigError
from gesturekit.classifiers.rules import model as m
from gesturekit.classifiers.rules.model import SCHEMA_VERSION, UNION_TAGS, describe_type, short_repr
from gesturekit.features import STATES
from gesturekit.util.safeyaml import LineDict, LineList, load_yaml_file
from gesturekit.values import TemporalSpec

__all__ = [
    "SCHEMA_VERSION",
    "MAX_GESTURE_BYTES",
    "MAX_GESTURE_NODES",
    "Threshold",
    "DirectionCond",
    "DistanceCond",
    "AngleCond",
    "Pose",
    "Motion",
    "Relation",
    "ValueSpec",
    "GestureDef",
    "GestureErrors",
    "load_definition",
    "load_definitions",
    "parse_definition",
    "check_library",
    "check_files",
    "library_errors",
]

#: Largest gesture file read, bytes (the built-in ones are under 1 KB). A bigger file is refused
#: before it is read.
MAX_GESTURE_BYTES = 64 * 1024
#: Most YAML values a gesture file may expand to, YAML aliases counted each time they are used
#: (the built-in ones have under 100). An "alias bomb" is refused before it is expanded.
MAX_GESTURE_NODES = 10_000
_TEMPORAL_FIELDS = ("min_duration", "hold_interval", "update_interval", "release", "cooldown")


class GestureErrors(ConfigError):
    """Several errors at once. Reads as the first one with a count of the others; ``errors``
    holds every one as its own :class:`ConfigError`."""

    def __init__(self, errors: Sequence[ConfigError]) -> None:
        self.errors: tuple[ConfigError, ...] = tuple(errors)
        first, more = self.errors[0], len(self.errors) - 1
        super().__init__(f"{_bare(first)} (and {more} more error{'s' if more > 1 else ''})", file=first.file,
                         line=first.line, field=first.field)


def _bare(e: ConfigError) -> str:
    """The message of a :class:`ConfigError` without its ``file:line: field:`` prefix."""
    text = str(e)
    where = ""
    if e.file:
        where = f"{e.file}:{e.line}: " if e.line else f"{e.file}: "
    if e.field:
        where += f"{e.field}: "
    return text[len(where):] if text.startswith(where) else text


def _raise(errors: Sequence[ConfigError]) -> None:
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise GestureErrors(errors)


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
    one of ``directions`` (``exit`` degrees to stop holding); ``plane`` ``"image"`` measures the
    direction in the image plane (depth ignored) instead of in 3D (``"view"``)."""

    finger: str
    directions: tuple[str, ...]
    within: float
    exit: float
    plane: str = "view"


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
# Where in the file: lines and field paths
# ------------------------------------------------------------------------------------------------

Path_ = tuple[Any, ...]


def _field(path: Path_) -> str:
    """``("pose", "distances", 0, "between", 1)`` -> ``"pose.distances[0].between[1]"``."""
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            text = str(part)
            if len(text) > 40:  # a key can be anything the file says: keep the line short
                text = text[:37] + "..."
            out += f".{text}" if out else text
    return out


class _Ctx:
    """Collects the errors of one document; knows the line of every path in it."""

    def __init__(self, data: Any, file: str) -> None:
        self.data, self.file = data, file
        self.top = getattr(data, "line", 1) or 1
        self.errors: list[ConfigError] = []

    def line(self, path: Path_) -> int:
        """The line of the deepest part of ``path`` present in the document (a missing field is
        reported at the line of the mapping that lacks it)."""
        node, line = self.data, self.top
        for part in path:
            if isinstance(node, dict) and part in node:
                if isinstance(node, LineDict):
                    line = node.lines.get(part, line)
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
                if isinstance(node, LineList) and part < len(node.lines):
                    line = node.lines[part]
                node = node[part]
            else:
                break
        return line

    def err(self, message: str, path: Path_, at: Path_ | None = None) -> None:
        """Record an error on field ``path``, at the line of ``at`` (default: ``path``)."""
        self.errors.append(ConfigError(message, file=self.file, line=self.line(path if at is None else at),
                                       field=_field(path) or None))


def _loc_path(loc: Sequence[Any]) -> Path_:
    """A pydantic error location as a path in the document (union branches and ``[key]`` dropped)."""
    return tuple(p for p in loc if not (isinstance(p, str) and (p in UNION_TAGS or p == "[key]")))


def _fields_at(loc: Sequence[Any]) -> tuple[str, ...]:
    """The field names allowed in the mapping at ``loc`` (for "unknown field" messages)."""
    models: list[Any] = [m.GestureFile]
    for part in loc:
        if isinstance(part, str) and part in UNION_TAGS:
            continue
        nxt: list[Any] = []
        for model in models:
            if isinstance(model, type) and issubclass(model, BaseModel):
                by_alias = {(f.alias or n): f for n, f in model.model_fields.items()}
                if isinstance(part, str) and part in by_alias:
                    nxt += _models_in(by_alias[part].annotation)
            elif isinstance(model, _Container):  # a list index or a mapping key
                nxt += model.items
        models = nxt
    names: list[str] = []
    for model in models:
        if isinstance(model, type) and issubclass(model, BaseModel):
            names += [f.alias or n for n, f in model.model_fields.items() if (f.alias or n) not in names]
    return tuple(names)


class _Container:
    def __init__(self, items: list[Any]) -> None:
        self.items = items


def _models_in(tp: Any) -> list[Any]:
    """Models (and list/dict containers of models) an annotation can hold."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [tp]
    if origin is typing.Annotated:
        return _models_in(args[0])
    if origin is typing.Union or type(tp).__name__ == "UnionType":
        return [x for a in args for x in _models_in(a)]
    if origin in (list, dict) and args:
        inner = _models_in(args[-1])
        return [_Container(inner)] if inner else []
    return []


_MISSING_HINTS = {"gesturekit": f" (the schema version, {SCHEMA_VERSION})", "window": " (seconds)",
                  "is": " (the direction)"}


def _pydantic_message(err: Mapping[str, Any]) -> str:
    """One pydantic error of :class:`~gesturekit.classifiers.rules.model.GestureFile` as a sentence."""
    kind, loc, value, ctx = err.get("type"), tuple(err.get("loc", ())), err.get("input"), err.get("ctx") or {}
    got = f"got {describe_type(value)}" + (f" ({short_repr(value)})" if short_repr(value) and value is not None
                                           else "")
    if kind == "gesture":
        return str(ctx.get("message", err.get("msg")))
    if kind == "missing":
        name = str(loc[-1]) if loc else "?"
        return f"missing field '{name}'{_MISSING_HINTS.get(name, '')}"
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        return f"unknown field {short_repr(loc[-1])}" + (f"; expected one of: {', '.join(allowed)}" if allowed else "")
    if kind in ("float_type", "int_type", "float_parsing"):
        return f"expected a number, {got}"
    if kind == "finite_number":
        return "expected a finite number"
    if kind in ("string_type", "literal_error"):
        return f"expected a string, {got}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return f"expected a mapping, {got}"
    if kind == "list_type":
        return f"expected a list, {got}"
    bound = next((ctx[k] for k in ("ge", "gt", "le", "lt") if isinstance(ctx.get(k), (int, float))), None)
    if bound is not None and isinstance(value, (int, float)):
        word = "at least" if kind in ("greater_than_equal", "greater_than") else "at most"
        return f"must be {word} {bound:g}, got {value:g}"
    return str(err.get("msg", "invalid"))[:200]


# ------------------------------------------------------------------------------------------------
# Validation: the model, then the rules that span fields
# ------------------------------------------------------------------------------------------------


def _threshold(ctx: _Ctx, t: Any, path: Path_) -> Threshold:
    """``below`` / ``above`` of ``t`` (a threshold model, or a distance or angle test)."""
    if t.below is None and t.above is None:
        ctx.err("expected 'below' and/or 'above'", path)
        return Threshold()
    out: dict[str, float] = {}
    for side in ("below", "above"):
        sv = getattr(t, side)
        if sv is None:
            continue
        if isinstance(sv, m.EnterExit):
            enter = sv.enter
            ex = enter if sv.exit is None else sv.exit
            if side == "below" and ex < enter:
                ctx.err(f"exit ({ex:g}) must be >= enter ({enter:g}) for 'below': a held condition is released only "
                        "when the value rises past exit", (*path, side, "exit"))
            if side == "above" and ex > enter:
                ctx.err(f"exit ({ex:g}) must be <= enter ({enter:g}) for 'above': a held condition is released only "
                        "when the value falls past exit", (*path, side, "exit"))
        else:
            enter = ex = float(sv)
        out[f"{side}_enter"], out[f"{side}_exit"] = enter, ex
    th = Threshold(**out)
    if t.below is not None and t.above is not None and th.above_enter >= th.below_enter:
        ctx.err(f"'above' ({th.above_enter:g}) must be less than 'below' ({th.below_enter:g}): nothing could satisfy "
                "both", path)
    return th


def _names(v: Any) -> tuple[str, ...]:
    return tuple(v) if isinstance(v, list) else (v,)


def _direction(ctx: _Ctx, finger: str, v: Any, path: Path_) -> DirectionCond:
    if isinstance(v, m.DirectionTest):
        ex = v.within if v.exit is None else v.exit
        if ex < v.within:
            ctx.err(f"exit ({ex:g}) must be >= within ({v.within:g}): a held direction is released only when it "
                    "turns past exit", (*path, "exit"))
        return DirectionCond(finger, _names(v.is_), v.within, ex, v.plane)
    return DirectionCond(finger, _names(v), 45.0, 45.0)


def _pose(ctx: _Ctx, p: m.PoseModel, path: Path_) -> Pose:
    fingers = {k: _names(s) for k, s in (p.fingers or {}).items()}
    dirs = [_direction(ctx, k, s, (*path, "directions", k)) for k, s in (p.directions or {}).items()]
    if p.palm is not None:
        dirs.append(_direction(ctx, "palm", p.palm, (*path, "palm")))
    dists, angles = [], []
    for key, items, out in (("distances", p.distances, dists), ("angles", p.angles, angles)):
        for i, item in enumerate(items or ()):
            ipath = (*path, key, i)
            if item.below is None and item.above is None:
                ctx.err("missing field 'below' or 'above'", ipath)
                continue
            thr = _threshold(ctx, item, ipath)
            a, b = item.between
            out.append(DistanceCond(a, b, thr) if key == "distances" else AngleCond(a, b, thr))
    for k, states in fingers.items():
        if len(set(states)) == len(STATES):
            ctx.err(f"finger {k!r} allows every state, so this condition always holds; name the states it may be "
                    "in, or leave the finger out", (*path, "fingers", k))
    if not (fingers or dirs or dists or angles or p.distances or p.angles):
        ctx.err("a pose needs at least one condition: expected 'fingers', 'directions', 'palm', 'distances' or "
                "'angles' (an empty pose would hold on every hand)", path)
    return Pose(fingers, tuple(dirs), tuple(dists), tuple(angles))


def _motion(ctx: _Ctx, v: m.MotionModel) -> Motion:
    path = ("motion",)
    ths = {k: _threshold(ctx, getattr(v, k), (*path, k)) if getattr(v, k) is not None else Threshold()
           for k in ("distance", "distance_frame", "speed")}
    if v.distance is None and v.distance_frame is None and v.speed is None:
        ctx.err("a motion needs 'distance' (palm units), 'distance_frame' (fraction of the image width) and/or "
                "'speed'", path)
    lo, hi = v.min_duration, math.inf if v.max_duration is None else v.max_duration
    if lo > v.window:
        ctx.err(f"min_duration ({lo:g}) must be at most the window ({v.window:g}): the movement is measured within "
                "the window", (*path, "min_duration"))
    if hi < lo:
        ctx.err(f"max_duration ({hi:g}) must be >= min_duration ({lo:g})", (*path, "max_duration"))
    return Motion(v.window, v.direction, v.within, ths["distance"], ths["speed"], ths["distance_frame"], lo, hi)


def _relation(ctx: _Ctx, v: m.RelationModel) -> Relation:
    dist = _threshold(ctx, v.distance, ("relation", "distance")) if v.distance is not None else None
    change = _threshold(ctx, v.change, ("relation", "change")) if v.change is not None else None
    if dist is None and change is None:
        ctx.err("a relation needs 'distance' and/or 'change'", ("relation",))
    return Relation(v.window, dist, change)


def _values(ctx: _Ctx, values: Mapping[str, m.ValueModel], hands: str) -> tuple[ValueSpec, ...]:
    out = []
    for name, spec in values.items():
        path = ("values", name)
        if (spec.between is None) == (spec.relation is None):
            ctx.err("expected exactly one of 'between' (two keypoints) or 'relation'", path)
        elif spec.between is not None:
            a, b = spec.between
            out.append(ValueSpec(name, between=(a, b)))
        else:
            if hands != "both":
                ctx.err("relation values need 'hands: both'", (*path, "relation"), at=path)
            out.append(ValueSpec(name, relation=spec.relation))
    return tuple(out)


def _temporal(v: m.TemporalModel | None, kind: str) -> TemporalSpec:
    base = TemporalSpec() if kind == "static" else TemporalSpec(min_duration=0.0, hold_interval=0.0,
                                                                update_interval=0.0, release=0.0, cooldown=0.3)
    if v is None:
        return base
    given = {k: getattr(v, k) for k in _TEMPORAL_FIELDS if getattr(v, k) is not None}
    return TemporalSpec(**{**{k: getattr(base, k) for k in _TEMPORAL_FIELDS}, **given})


def _build(ctx: _Ctx, g: m.GestureFile) -> GestureDef:
    has_pose = g.pose is not None or g.any_pose is not None
    if g.pose is not None and g.any_pose is not None:
        ctx.err("use either 'pose' or 'any_pose', not both", ("any_pose",))
    poses: tuple[Pose, ...] = (Pose(),)
    if g.pose is not None:
        poses = (_pose(ctx, g.pose, ("pose",)),)
    elif g.any_pose is not None:
        poses = tuple(_pose(ctx, p, ("any_pose", i)) for i, p in enumerate(g.any_pose))
    motion = _motion(ctx, g.motion) if g.motion is not None else None
    if motion is not None and g.kind != "pulse":
        ctx.err("a 'motion' gesture must be 'kind: pulse'", ("motion",))
    if g.kind == "pulse" and motion is None:
        ctx.err("a 'pulse' gesture needs a 'motion'", ("kind",))
    relation = _relation(ctx, g.relation) if g.relation is not None else None
    if relation is not None and g.hands != "both":
        ctx.err("'relation' needs 'hands: both'", ("relation",))
    if g.hands == "both" and motion is not None:
        ctx.err("two-hand gestures take a 'relation', not a 'motion'", ("motion",))
    unless = _names(g.unless) if g.unless is not None else ()
    values = _values(ctx, g.values, g.hands) if g.values is not None else ()
    if not has_pose and motion is None and relation is None:
        ctx.err("the gesture has no condition and would hold on every hand; expected 'pose' (or 'any_pose'), "
                "'motion' or 'relation'", ("pose",))
    return GestureDef(g.name, g.description, g.kind, g.hands, poses, motion, relation, unless, values,
                      _temporal(g.temporal, g.kind), ctx.file, ctx.top, ctx.line(("unless",)))


def _parse(data: Any, file: str) -> tuple[GestureDef | None, list[ConfigError]]:
    """Validate one parsed document: the definition, or every error found."""
    ctx = _Ctx(data, file)
    try:
        g = m.GestureFile.model_validate(data)
    except ValidationError as e:
        for err in e.errors(include_url=False):
            path = _loc_path(err.get("loc", ()))
            ctx.err(_pydantic_message(err), path)
        return None, sorted(ctx.errors, key=lambda e: e.line or 0)
    d = _build(ctx, g)
    return (None, ctx.errors) if ctx.errors else (d, [])  # in the order of the checks: the first is the cause


def parse_definition(data: Any, file: str = "<string>") -> GestureDef:
    """Validate one parsed YAML document (with line info when it came from :func:`load_definition`).

    Raises :class:`ConfigError` (:class:`GestureErrors` when there are several errors)."""
    d, errors = _parse(data, file)
    _raise(errors)
    assert d is not None
    return d


def _read(path: Path) -> tuple[GestureDef | None, list[ConfigError], Any]:
    """Read and validate one file: ``(definition or None, errors, the parsed document)``."""
    try:
        data = load_yaml_file(path, what="gesture file", max_bytes=MAX_GESTURE_BYTES, max_nodes=MAX_GESTURE_NODES)
    except ConfigError as e:
        return None, [e], None
    if data is None:
        return None, [ConfigError("the file is empty; expected a gesture definition", file=str(path), line=1)], None
    d, errors = _parse(data, str(path))
    return d, errors, data


def load_definition(path: str | Path) -> GestureDef:
    """Read and validate one YAML gesture file; :class:`ConfigError` names file, line and field
    (:class:`GestureErrors`, a ConfigError, when the file has several errors)."""
    d, errors, _ = _read(Path(path))
    _raise(errors)
    assert d is not None
    return d


def _expand(paths: Iterable[str | Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        p = Path(path)
        if p.is_dir():
            files.extend(sorted([*p.glob("*.yaml"), *p.glob("*.yml")]))
        else:
            files.append(p)
    return files


def load_definitions(paths: Iterable[str | Path], check: bool = True) -> list[GestureDef]:
    """Load several files (folders: every ``*.yaml``/``*.yml`` inside), then (``check``) check them
    together: unique names, ``unless`` names that exist, no ``unless`` cycles."""
    defs = [load_definition(f) for f in _expand(paths)]
    if check:
        check_library(defs)
    return defs


def check_files(paths: Iterable[str | Path], *, builtin: bool = True) -> tuple[list[GestureDef], list[ConfigError]]:
    """Validate every file (folders: each ``*.yaml``/``*.yml``) and check them together, with the
    built-in library when ``builtin`` (a name it uses is then taken; ``unless`` may name its
    gestures), as :func:`~gesturekit.classifiers.rules.load_library` would: every error of every
    file, not only the first. Returns the definitions that loaded and the errors."""
    defs: list[GestureDef] = []
    errors: list[ConfigError] = []
    failed_names: set[str] = set()
    files = _expand(paths)
    for f in files:
        d, errs, data = _read(f)
        errors += errs
        if d is not None:
            defs.append(d)
        elif isinstance(data, dict) and isinstance(data.get("name"), str):
            failed_names.add(data["name"])  # its errors are reported; it is no unknown 'unless' target
    base: list[GestureDef] = []
    if builtin:
        from gesturekit.classifiers.rules._classifier import builtin_library_path

        mine = {f.resolve() for f in files}
        # a built-in file named on the command line is checked once, as one of the files
        base = [d for d in load_definitions([builtin_library_path()], check=False)
                if Path(d.file).resolve() not in mine]
    errors += library_errors([*base, *defs], known=failed_names)
    return defs, errors


def _builtin_dir() -> Path | None:
    try:
        from gesturekit.classifiers.rules._classifier import builtin_library_path

        return builtin_library_path().resolve()
    except Exception:  # pragma: no cover - an unusual install
        return None


def library_errors(defs: Sequence[GestureDef], known: Iterable[str] = ()) -> list[ConfigError]:
    """Every cross-definition error: duplicate names, unknown ``unless`` references (``known``:
    names that exist although their definition is not in ``defs``), mixed hand counts, cycles."""
    errors: list[ConfigError] = []
    known = set(known)
    builtin_dir = _builtin_dir()
    seen: dict[str, GestureDef] = {}
    for d in defs:
        if d.name in seen:
            first = seen[d.name]
            where = f"{first.file}:{first.line}"
            is_builtin = builtin_dir is not None and first.file and Path(first.file).resolve().parent == builtin_dir
            msg = (f"duplicate gesture name {d.name!r}: the built-in library defines it ({where}); rename yours, "
                   "or set 'builtin: false' to replace the built-in library") if is_builtin \
                else f"duplicate gesture name {d.name!r} (also defined in {where})"
            errors.append(ConfigError(msg, file=d.file, line=d.line, field="name"))
            continue
        seen[d.name] = d
    for d in defs:
        if seen.get(d.name) is not d:
            continue
        for u in d.unless:
            if u not in seen:
                if u not in known:
                    errors.append(ConfigError(f"unknown gesture {u!r} referenced; known: {', '.join(sorted(seen))}",
                                              file=d.file, line=d.unless_line, field="unless"))
                continue
            other = seen[u]
            if other.hands != d.hands and "both" in (other.hands, d.hands):
                errors.append(ConfigError(
                    f"gesture {u!r} is a {'two' if other.hands == 'both' else 'one'}-hand gesture; 'unless' must "
                    "refer to gestures with the same number of hands", file=d.file, line=d.unless_line,
                    field="unless"))
    state: dict[str, int] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2 or name not in seen:
            return
        if state.get(name) == 1:
            d = seen[path[0]]
            errors.append(ConfigError(f"'unless' forms a cycle: {' -> '.join([*path, name])}", file=d.file,
                                      line=d.unless_line, field="unless"))
            return
        state[name] = 1
        for u in seen[name].unless:
            visit(u, [*path, name])
        state[name] = 2

    for d in defs:
        visit(d.name, [])
    return errors


def check_library(defs: Sequence[GestureDef]) -> None:
    """Cross-definition checks (see :func:`library_errors`); raises the first error, with a count
    of the others."""
    _raise(library_errors(defs))
