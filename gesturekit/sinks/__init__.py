"""Helpers for sink (and server) plugins; first-party sinks use only these and the rest of the public API.

* :mod:`.options` — reject unknown keys of a section (catches typos such as ``tokn: s3cret``), typed
  checks for ports, numbers, booleans and ``{placeholder}`` templates;
* :mod:`.security` — the rule that a server reachable from the network needs a token, reading and
  comparing tokens;
* :mod:`.udp` — :class:`UdpSender`, one UDP socket to one host and port.
"""

from gesturekit.sinks.options import (
    BUS_KEYS,
    check_bool,
    check_number,
    check_options,
    check_port,
    check_template,
    sink_options,
)
from gesturekit.sinks.security import (
    is_loopback,
    needs_token,
    origin_allowed,
    request_token,
    require_token_off_loopback,
    token_matches,
)
from gesturekit.sinks.udp import UdpSender
from gesturekit.sinks.x11 import import_pynput

__all__ = ["BUS_KEYS", "sink_options", "check_options", "check_port", "check_number", "check_bool", "check_template",
           "is_loopback", "needs_token", "origin_allowed", "require_token_off_loopback", "request_token",
           "token_matches", "UdpSender", "import_pynput"]
