"""The ``mqtt`` sink: publishes each GestureEvent (canonical JSON) to an MQTT broker (paho-mqtt).

The topic is ``gesturekit/{source}/{gesture}`` by default (placeholders ``{source}``,
``{gesture}``, ``{phase}``; characters MQTT reserves in topic levels become ``_``). QoS 1 by
default. The client reconnects with exponential backoff; while the broker is away, events
are buffered in the client (up to ``buffer`` messages) and sent in order once it is back, so
with QoS 1 nothing is lost across a broker restart.

Config::

    type: mqtt
    host: 127.0.0.1
    port: 1883
    topic: gesturekit/{source}/{gesture}
    qos: 1
    retain: false
    client_id: gesturekit-livingroom   # default: gesturekit-<random>
    username: ...                      # optional
    password: ...
    keepalive: 30
    clean_session: true                # false keeps the session on the broker (needs a fixed client_id)
    reconnect_min: 0.5                 # backoff, seconds (fractions work); reconnect_min <= reconnect_max
    reconnect_max: 30
    buffer: 100000                     # messages held while the broker is away (0 = no limit)
    drain_timeout: 5                   # seconds to wait for acknowledgements on shutdown
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

from gesturekit import ConfigError, GestureEvent, PluginError, hookimpl
from gesturekit.sinks import check_bool, check_number, check_options, check_port, check_template

log = logging.getLogger("gesturekit.sinks.mqtt")

_TOPIC_UNSAFE = re.compile(r"[+#/\x00]")


def _import_paho() -> Any:
    try:
        import paho.mqtt.client as mqtt
    except ImportError:
        raise PluginError("the mqtt sink needs paho-mqtt: pip install 'gesturekit[mqtt]'", plugin="mqtt_sink") from None
    if not hasattr(mqtt, "CallbackAPIVersion"):
        raise PluginError("the mqtt sink needs paho-mqtt 2.x: pip install -U 'gesturekit[mqtt]'", plugin="mqtt_sink")
    return mqtt


def topic_part(s: str) -> str:
    """One MQTT topic level: ``/``, ``+`` and ``#`` become ``_``."""
    return _TOPIC_UNSAFE.sub("_", s) or "_"


class MqttSink:
    """Publishes events to an MQTT broker; durable with QoS >= 1."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        check_options(config, ("host", "port", "topic", "qos", "retain", "client_id", "username", "password",
                               "keepalive", "clean_session", "reconnect_min", "reconnect_max", "buffer",
                               "drain_timeout"), "the mqtt sink")
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = check_port(config, 1883)
        self.topic = check_template(config.get("topic", "gesturekit/{source}/{gesture}"),
                                    ("source", "gesture", "phase"), "topic", "an MQTT topic")
        if "+" in self.topic or "#" in self.topic:
            raise ConfigError("a topic to publish to cannot contain the wildcards + or #", field="topic")
        self.qos = config.get("qos", 1)
        if isinstance(self.qos, bool) or self.qos not in (0, 1, 2):
            raise ConfigError("must be 0, 1 or 2", field="qos")
        self.retain = check_bool(config, "retain", False)
        self.client_id = str(config.get("client_id") or f"gesturekit-{uuid.uuid4().hex[:8]}")
        self.keepalive = check_number(config, "keepalive", 30, integer=True, minimum=1, maximum=65535,
                                      unit="whole seconds between pings")
        self.reconnect_min = check_number(config, "reconnect_min", 0.5, minimum=0.01, unit="seconds")
        self.reconnect_max = check_number(config, "reconnect_max", 30, minimum=0.01, unit="seconds")
        if self.reconnect_min > self.reconnect_max:
            raise ConfigError(f"reconnect_min ({self.reconnect_min:g} s) is larger than reconnect_max "
                              f"({self.reconnect_max:g} s)", field="reconnect_min")
        self.buffer = check_number(config, "buffer", 100_000, integer=True, minimum=0,
                                   unit="messages held while the broker is away, 0 = no limit")
        self.drain_timeout = check_number(config, "drain_timeout", 5, minimum=0, unit="seconds")
        self.username, self.password = config.get("username"), config.get("password")
        self.clean_session = check_bool(config, "clean_session", True)
        self.durable = self.qos > 0
        self._mqtt = _import_paho()
        self._client: Any = None
        self._connected = threading.Event()
        self._pending: set[int] = set()
        self._acked: set[int] = set()
        self._lock = threading.Lock()
        self._connects = 0
        self.reconnects = 0
        self.published = 0

    def open(self) -> None:
        """Start the client's network thread and connect in the background (a broker that is
        down now is retried with backoff; events are buffered meanwhile)."""
        mqtt = self._mqtt
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=self.clean_session)
        if self.username is not None:
            c.username_pw_set(str(self.username), None if self.password is None else str(self.password))
        c.max_inflight_messages_set(100)
        c.max_queued_messages_set(self.buffer)
        # paho's backoff arithmetic works with fractional seconds (it sleeps in steps of <= 1 s)
        c.reconnect_delay_set(min_delay=self.reconnect_min, max_delay=self.reconnect_max)  # type: ignore[arg-type]
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.connect_async(self.host, self.port, keepalive=self.keepalive)
        c.loop_start()
        self._client = c
        if not self._connected.wait(2.0):  # a short grace period so the first events go out directly
            log.warning("mqtt broker %s:%d not reachable yet; retrying with backoff (%g..%g s) and buffering "
                        "events meanwhile", self.host, self.port, self.reconnect_min, self.reconnect_max)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("mqtt broker %s:%d refused the connection: %s", self.host, self.port, reason)
            return
        self._connects += 1
        if self._connects > 1:
            self.reconnects += 1
            log.warning("mqtt broker %s:%d reconnected; sending %d buffered events", self.host, self.port,
                        len(self._pending))
        else:
            log.info("mqtt connected to %s:%d", self.host, self.port)
        self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self._connected.is_set():
            log.warning("mqtt broker %s:%d lost (%s); reconnecting with backoff, buffering events", self.host,
                        self.port, reason)
        self._connected.clear()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._lock:
            if mid in self._pending:
                self._pending.discard(mid)
            else:
                self._acked.add(mid)

    def topic_for(self, event: GestureEvent) -> str:
        """The topic ``event`` is published to."""
        return self.topic.format(source=topic_part(event.source or "default"), gesture=topic_part(event.gesture),
                                 phase=event.phase)

    def send(self, event: GestureEvent) -> None:
        if self._client is None:
            self.open()
        info = self._client.publish(self.topic_for(event), event.to_json(), qos=self.qos, retain=self.retain)
        if info.rc == self._mqtt.MQTT_ERR_QUEUE_SIZE:
            raise RuntimeError(f"mqtt buffer full ({self.buffer} events waiting for the broker)")
        if self.qos > 0:
            with self._lock:  # the acknowledgement may already have come back
                if info.mid in self._acked:
                    self._acked.discard(info.mid)
                else:
                    self._pending.add(info.mid)
        self.published += 1

    @property
    def connected(self) -> bool:
        """True while the client holds an accepted connection to the broker."""
        return self._connected.is_set()

    def status(self) -> dict[str, Any]:
        """``{"connected", "unacknowledged"}``."""
        return {"connected": self.connected, "unacknowledged": len(self._pending)}

    def close(self) -> None:
        """Wait up to ``drain_timeout`` s for the broker to acknowledge what was sent, then disconnect."""
        if self._client is None:
            return
        deadline = time.monotonic() + self.drain_timeout
        while self._pending and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._pending:
            log.warning("mqtt: %d events not acknowledged by the broker at shutdown", len(self._pending))
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"mqtt": MqttSink}
