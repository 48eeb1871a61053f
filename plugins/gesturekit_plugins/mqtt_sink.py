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
    reconnect_min: 0.5                 # backoff, seconds
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
        self.host = str(config.get("host", "127.0.0.1"))
        self.port = config.get("port", 1883)
        if not isinstance(self.port, int) or not 1 <= self.port <= 65535:
            raise ConfigError("must be a port number 1..65535", field="port")
        self.topic = str(config.get("topic", "gesturekit/{source}/{gesture}"))
        try:
            self.topic.format(source="s", gesture="g", phase="p")
        except (KeyError, IndexError, ValueError) as e:
            raise ConfigError(f"unknown placeholder {e}; use {{source}}, {{gesture}} or {{phase}}", field="topic") \
                from None
        if "+" in self.topic or "#" in self.topic:
            raise ConfigError("a topic to publish to cannot contain the wildcards + or #", field="topic")
        self.qos = config.get("qos", 1)
        if self.qos not in (0, 1, 2):
            raise ConfigError("must be 0, 1 or 2", field="qos")
        self.retain = bool(config.get("retain", False))
        self.client_id = str(config.get("client_id") or f"gesturekit-{uuid.uuid4().hex[:8]}")
        self.keepalive = int(config.get("keepalive", 30))
        self.reconnect_min = float(config.get("reconnect_min", 0.5))
        self.reconnect_max = float(config.get("reconnect_max", 30))
        self.buffer = int(config.get("buffer", 100_000))
        self.drain_timeout = float(config.get("drain_timeout", 5))
        self.username, self.password = config.get("username"), config.get("password")
        self.clean_session = bool(config.get("clean_session", True))
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
        c.reconnect_delay_set(min_delay=max(1, int(self.reconnect_min)), max_delay=max(1, int(self.reconnect_max)))
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_publish = self._on_publish
        c.connect_async(self.host, self.port, keepalive=self.keepalive)
        c.loop_start()
        self._client = c
        self._connected.wait(2.0)  # a short grace period so the first events go out directly

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

    def status(self) -> dict[str, Any]:
        return {"connected": self._connected.is_set(), "unacknowledged": len(self._pending)}

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
