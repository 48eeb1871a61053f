"""The ``keyboard`` sink: types keys, key combos or text for gestures named in ``bindings``.

It types only what a binding names: any other gesture or phase does nothing. Output goes
through pynput (X11 on Linux, also macOS and Windows); without a display it fails with one
clear line.

Bindings map ``gesture`` or ``gesture:phase`` to a key, a combo or text::

    type: keyboard
    bindings:
      thumbs_up:start: space          # phase given: only that phase
      swipe_left: left                # no phase: on start and on pulse
      swipe_right: right
      open_palm:start: ctrl+shift+t   # combo: modifiers + one key
      peace:start: {text: "hello "}   # text, typed as is

Key names: one character (``a``, ``1``, ``.``), or ``space enter tab esc backspace delete insert
home end page_up page_down left right up down f1..f20 caps_lock print_screen menu
media_play_pause media_next media_previous media_volume_up media_volume_down media_volume_mute``;
modifiers ``ctrl alt shift cmd`` (``cmd`` is the Super/Windows key).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from gesturekit import ConfigError, GestureEvent, PluginError, PluginOptions, hookimpl, options
from gesturekit.sinks import import_pynput, sink_options

log = logging.getLogger("gesturekit.sinks.keyboard")

PHASES = ("start", "hold", "update", "end", "pulse")

_MODIFIERS = {"ctrl": "ctrl", "control": "ctrl", "alt": "alt", "option": "alt", "shift": "shift",
              "cmd": "cmd", "super": "cmd", "win": "cmd", "meta": "cmd"}
_NAMED = {
    "space": "space", "enter": "enter", "return": "enter", "tab": "tab", "esc": "esc", "escape": "esc",
    "backspace": "backspace", "delete": "delete", "del": "delete", "insert": "insert", "home": "home",
    "end": "end", "page_up": "page_up", "pageup": "page_up", "pgup": "page_up", "page_down": "page_down",
    "pagedown": "page_down", "pgdn": "page_down", "left": "left", "right": "right", "up": "up", "down": "down",
    "caps_lock": "caps_lock", "print_screen": "print_screen", "menu": "menu",
    "media_play_pause": "media_play_pause", "media_next": "media_next", "media_previous": "media_previous",
    "media_volume_up": "media_volume_up", "media_volume_down": "media_volume_down",
    "media_volume_mute": "media_volume_mute",
    **{f"f{i}": f"f{i}" for i in range(1, 21)},
}


@dataclass(frozen=True)
class Action:
    """What one binding does: a combo (modifiers + key) or text."""

    modifiers: tuple[str, ...] = ()
    key: str = ""  # a named key (pynput Key attribute) or one character
    named: bool = False
    text: str = ""

    def describe(self) -> str:
        if self.text:
            return f"text {self.text!r}"
        return "+".join([*self.modifiers, self.key])


def parse_action(spec: Any, field: str) -> Action:
    """Parse ``"ctrl+shift+t"``, ``"space"``, ``"a"`` or ``{text: "..."}`` / ``{key: "..."}``."""
    if isinstance(spec, Mapping):
        if set(spec) == {"text"} and isinstance(spec["text"], str) and spec["text"]:
            return Action(text=spec["text"])
        if set(spec) == {"key"} and isinstance(spec["key"], str):
            return parse_action(spec["key"], field)
        raise ConfigError("a binding is a key or combo string, {text: ...} or {key: ...}", field=field)
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError("a binding is a key or combo string, {text: ...} or {key: ...}", field=field)
    s = spec.strip()
    parts = [p.strip() for p in (s.split("+") if s != "+" and not s.endswith("++") else [*s[:-2].split("+"), "+"])]
    parts = [p for p in parts if p]
    if not parts:
        raise ConfigError(f"empty key in {spec!r}", field=field)
    *mods, key = parts
    modifiers = []
    for m in mods:
        if m.lower() not in _MODIFIERS:
            raise ConfigError(f"unknown modifier {m!r} in {spec!r}; use ctrl, alt, shift or cmd", field=field)
        modifiers.append(_MODIFIERS[m.lower()])
    if len(key) == 1:
        return Action(tuple(modifiers), key, named=False)
    if key.lower() in _NAMED:
        return Action(tuple(modifiers), _NAMED[key.lower()], named=True)
    if key.lower() in _MODIFIERS and not mods:
        return Action((), _MODIFIERS[key.lower()], named=True)
    raise ConfigError(f"unknown key {key!r} in {spec!r}; use one character or a key name such as space, "
                      "enter, left, page_down, f5, media_play_pause", field=field)


_NO_BINDINGS = "needs at least one binding, e.g. {thumbs_up:start: space}"


def _split_key(key: str) -> tuple[str, str]:
    """``"gesture[:phase]"`` -> ``(gesture, phase)`` (phase ``""`` when none); :class:`ValueError` if bad."""
    gesture, _, phase = key.partition(":")
    if not gesture:
        raise ValueError(f"binding {key!r} names no gesture")
    if phase and phase not in PHASES:
        raise ValueError(f"unknown phase {phase!r} in {key!r}; use one of {', '.join(PHASES)}")
    return gesture, phase


def parse_bindings(bindings: Any, field: str = "bindings") -> dict[tuple[str, str], Action]:
    """``{"gesture[:phase]": spec}`` -> ``{(gesture, phase): Action}``. No phase = start and pulse.

    A phase given explicitly wins over the no-phase shortcut for the same gesture."""
    if not isinstance(bindings, Mapping) or not bindings:
        raise ConfigError(_NO_BINDINGS, field=field)
    out: dict[tuple[str, str], Action] = {}
    for k, spec in bindings.items():
        k = str(k)
        try:
            gesture, phase = _split_key(k)
        except ValueError as e:
            raise ConfigError(str(e), field=f"{field}.{k}") from None
        action = parse_action(spec, f"{field}.{k}")
        if phase:
            out[(gesture, phase)] = action
        else:
            out.setdefault((gesture, "start"), action)
            out.setdefault((gesture, "pulse"), action)
    return out


# the options model ---------------------------------------------------------------------------
def _binding_key(key: Any) -> str:
    key = str(key)
    _split_key(key)
    return key


def _binding_value(spec: Any) -> Any:
    try:
        parse_action(spec, "")
    except ConfigError as e:  # no field given: the message alone; pydantic adds the location
        raise ValueError(str(e)) from None
    return spec


class TextBinding(PluginOptions):
    """Text typed as is."""

    text: str = Field(min_length=1, description="the text to type")


class KeyBinding(PluginOptions):
    """A key or combo, written as a mapping."""

    key: str = Field(min_length=1, description="a key or combo such as space, a, ctrl+shift+t")


#: ``gesture`` (start and pulse) or ``gesture:phase``.
BindingKey = Annotated[str, BeforeValidator(_binding_key)]
#: A key or combo string, ``{text: ...}`` or ``{key: ...}``.
Binding = Annotated[str | TextBinding | KeyBinding, BeforeValidator(_binding_value)]

_KEY_PATTERN = f"^[^:]+(:({'|'.join(PHASES)}))?$"


class KeyboardOptions(PluginOptions):
    """Options of the ``keyboard`` sink."""

    bindings: dict[BindingKey, Binding] = Field(
        ..., min_length=1,
        description="gesture or gesture:phase -> a key (space, a, f5), a combo (ctrl+shift+t), {text: ...} or "
                    "{key: ...}; no phase = on start and on pulse",
        json_schema_extra={"propertyNames": {"pattern": _KEY_PATTERN}})

    @field_validator("bindings", mode="before")
    @classmethod
    def _some_bindings(cls, v: Any) -> Any:
        if not isinstance(v, Mapping) or not v:
            raise ValueError(_NO_BINDINGS)
        return v

    def actions(self) -> dict[tuple[str, str], Action]:
        """The bindings parsed: ``{(gesture, phase): Action}`` (see :func:`parse_bindings`)."""
        return parse_bindings(self.model_dump()["bindings"])


def _import_pynput() -> Any:
    return import_pynput("keyboard", "keyboard")


@options(KeyboardOptions)
class KeyboardSink:
    """Types the bound key, combo or text for matching events; everything else is ignored.

    :param config: a :class:`KeyboardOptions` or its section as a plain dict.
    """

    def __init__(self, config: KeyboardOptions | Any = None) -> None:
        opts = sink_options(KeyboardOptions, config)
        self.options = opts
        self.bindings = opts.actions()
        self._kb: Any = None
        self._controller: Any = None
        self.typed = 0

    def open(self) -> None:
        """Connect to the display (raises :class:`gesturekit.PluginError` with one clear line)."""
        self._kb = _import_pynput()
        try:
            self._controller = self._kb.Controller()
        except Exception as e:
            raise PluginError(f"the keyboard sink cannot use the display: {type(e).__name__}: {e}",
                              plugin="keyboard_sink") from None

    def _key(self, name: str, named: bool) -> Any:
        return getattr(self._kb.Key, name) if named else name

    def send(self, event: GestureEvent) -> None:
        action = self.bindings.get((event.gesture, event.phase))
        if action is None:
            return
        if self._controller is None:
            self.open()
        c = self._controller
        if action.text:
            c.type(action.text)
        else:
            mods = [self._key(m, True) for m in action.modifiers]
            for m in mods:
                c.press(m)
            try:
                k = self._key(action.key, action.named)
                c.press(k)
                c.release(k)
            finally:
                for m in reversed(mods):
                    c.release(m)
        self.typed += 1
        log.info("%s:%s -> %s", event.gesture, event.phase, action.describe())

    def status(self) -> dict[str, Any]:
        return {"typed": self.typed, "bindings": len(self.bindings)}

    def close(self) -> None:
        self._controller = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"keyboard": KeyboardSink}
