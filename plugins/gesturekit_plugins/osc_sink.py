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
from typing import Any

from gesturekit import ConfigError, GestureEvent, PluginError, hookimpl
from gesturekit.sinks import UdpSender, check_bool, check_options, check_port, check_template

_SAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def _import_osc() -> Any:
    try:
        from pythonosc import osc_message_builder
    except ImportError:
        raise PluginError("the osc sink needs python-osc: pip install 'gesturekit[osc]'", plugin="osc_sink") from None
    return osc_message_builder


def _check_address(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.startswith("/"):
        raise ConfigError("an OSC address must be a string starting with '/'", field=field)
    return check_template(value, ("gesture", "phase", "source"), field, "an OSC address")


def _part(s: str) -> str:
    """One OSC address part: characters OSC patterns treat specially become ``_``."""
    return _SAFE.sub("_", s) or "_"


class OscSink:
    """Sends typed OSC messages over UDP to one host and port."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        check_options(config, ("host", "port", "address", "addresses", "values", "active"), "the osc sink")
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = check_port(config, what="the osc sink (the receiver's UDP port)")
        self.address = _check_address(config.get("address", "/gesturekit/{gesture}"), "address")
        addresses = config.get("addresses") or {}
        if not isinstance(addresses, Mapping):
            raise ConfigError("must map gesture names to OSC addresses", field="addresses")
        self.addresses = {str(k): _check_address(v, f"addresses.{k}") for k, v in addresses.items()}
        self.values = check_bool(config, "values", True)
        self.active = check_bool(config, "active", True)
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
