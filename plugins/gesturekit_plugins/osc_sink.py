"""The ``osc`` sink: sends each GestureEvent as OSC messages over UDP (python-osc).

Mapping (documented in docs/sinks.md and docs/daemon.md):

* the event message, at ``address`` (default ``/gesturekit/{gesture}``; per-gesture override
  in ``addresses``), with typed arguments ``phase`` (string), ``score`` (float32),
  ``seq`` (int32), ``t`` (float32, seconds), ``hand`` (string: ``left``, ``right``, ``both``
  or empty);
* one message per continuous value at ``<address>/<value name>`` with one float32 argument
  (``values: false`` turns these off);
* on ``start`` and ``end``, ``<address>/active`` with float32 ``1.0`` / ``0.0`` (``active: false``
  turns it off), so a CHOP channel follows the gesture's state.

Placeholders in addresses: ``{gesture}``, ``{phase}``, ``{source}``.

Config::

    type: osc
    host: 127.0.0.1
    port: 7000                 # required
    address: /gesturekit/{gesture}
    addresses: {pinch: /synth/pinch}
    values: true
    active: true
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StringConstraints, field_validator

from gesturekit import ConfigError, GestureEvent, PluginError, PluginOptions, hookimpl, options
from gesturekit.sinks import UdpSender, check_template, sink_options

_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def _import_osc() -> Any:
    try:
        from pythonosc import osc_message_builder
    except ImportError:
        raise PluginError("the osc sink needs python-osc: pip install 'gesturekit[osc]'", plugin="osc_sink") from None
    return osc_message_builder


PLACEHOLDERS = ("gesture", "phase", "source")


def _check_address(value: Any) -> str:
    """An OSC address template: a string starting with ``/`` whose placeholders are known."""
    if not isinstance(value, str) or not value.startswith("/"):
        raise ValueError("an OSC address must be a string starting with '/'")
    try:
        return check_template(value, PLACEHOLDERS, "", "an OSC address")
    except ConfigError as e:  # no field given: the message alone; pydantic adds the location
        raise ValueError(str(e)) from None


#: An OSC address with ``{gesture}``, ``{phase}`` and ``{source}`` placeholders.
OscAddress = Annotated[str, BeforeValidator(_check_address), StringConstraints(pattern=r"^/")]


class OscOptions(PluginOptions):
    """Options of the ``osc`` sink."""

    host: str = Field("127.0.0.1", min_length=1, description="the receiver's host name or IP address")
    port: int = Field(..., ge=1, le=65535, description="the receiver's UDP port (required)")
    address: OscAddress = Field("/gesturekit/{gesture}", validate_default=True,
                                description="OSC address of the event message; placeholders {gesture}, {phase}, "
                                            "{source}")
    addresses: dict[str, OscAddress] = Field(default_factory=dict,
                                             description="per-gesture address overriding address, e.g. "
                                                         "{pinch: /synth/pinch}")
    values: bool = Field(True, strict=True,
                         description="send each continuous value as <address>/<value name> with one float")
    active: bool = Field(True, strict=True, description="send <address>/active 1.0 on start and 0.0 on end")

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 65535:
            raise ValueError("the osc sink needs the receiver's UDP port, a number 1..65535")
        return v

    @field_validator("addresses", mode="before")
    @classmethod
    def _address_map(cls, v: Any) -> Any:
        if v is None:
            return {}
        if not isinstance(v, Mapping):
            raise ValueError("must map gesture names to OSC addresses")
        return {str(k): a for k, a in v.items()}


def _part(s: str) -> str:
    """One OSC address part: characters OSC patterns treat specially become ``_``."""
    return _SAFE.sub("_", s) or "_"


@options(OscOptions)
class OscSink:
    """Sends typed OSC messages over UDP to one host and port.

    :param config: an :class:`OscOptions` or its section as a plain dict.
    """

    def __init__(self, config: OscOptions | Any = None) -> None:
        opts = sink_options(OscOptions, config)
        self.options = opts
        self.host = opts.host
        self.port = opts.port
        self.address = opts.address
        self.addresses = dict(opts.addresses)
        self.values = opts.values
        self.active = opts.active
        self._builder = _import_osc()
        self._udp = UdpSender(self.host, self.port)

    def open(self) -> None:
        """Resolve the receiver's address and open the UDP socket."""
        self._udp.open()

    def messages(self, event: GestureEvent) -> list[bytes]:
        """The OSC datagrams for ``event`` (see the module docstring for the mapping)."""
        b = self._builder
        template = self.addresses.get(event.gesture, self.address)
        address = template.format(gesture=_part(event.gesture), phase=event.phase, source=_part(event.source))
        hands = [h.get("handedness", "") for h in event.hands]
        hand = hands[0] if len(hands) == 1 else ("both" if len(hands) > 1 else "")
        m = b.OscMessageBuilder(address)
        m.add_arg(event.phase, b.OscMessageBuilder.ARG_TYPE_STRING)
        m.add_arg(float(event.score), b.OscMessageBuilder.ARG_TYPE_FLOAT)
        m.add_arg(int(event.seq) & 0x7FFFFFFF, b.OscMessageBuilder.ARG_TYPE_INT)
        m.add_arg(float(event.t), b.OscMessageBuilder.ARG_TYPE_FLOAT)
        m.add_arg(hand, b.OscMessageBuilder.ARG_TYPE_STRING)
        out = [m.build().dgram]
        if self.values:
            for k, v in event.values.items():
                vm = b.OscMessageBuilder(f"{address}/{_part(k)}")
                vm.add_arg(float(v), b.OscMessageBuilder.ARG_TYPE_FLOAT)
                out.append(vm.build().dgram)
        if self.active and event.phase in ("start", "end"):
            am = b.OscMessageBuilder(f"{address}/active")
            am.add_arg(1.0 if event.phase == "start" else 0.0, b.OscMessageBuilder.ARG_TYPE_FLOAT)
            out.append(am.build().dgram)
        return out

    def send(self, event: GestureEvent) -> None:
        """Send the event's OSC datagrams."""
        self._udp.send(self.messages(event))

    def close(self) -> None:
        """Close the UDP socket."""
        self._udp.close()


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"osc": OscSink}
