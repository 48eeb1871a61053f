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
    buffer: 60000                      # messages held while the broker is away (at most 65000)
    drain_timeout: 5                   # seconds to wait for acknowledgements on shutdown

With QoS 1 or 2 an event counts as delivered once the broker has acknowledged it: the sink's
``unacknowledged`` property (read by the bus) is the number of events handed to the client that
the broker has not acknowledged yet.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from typing import Any

from pydantic import Field, ValidationInfo, field_validator

from gesturekit import ConfigError, GestureEvent, PluginError, PluginOptions, hookimpl, options
from gesturekit.sinks import check_template, sink_options

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


_PLACEHOLDERS = ("source", "gesture", "phase")


class MqttOptions(PluginOptions):
    """Options of the ``mqtt`` sink."""

    host: str = Field("127.0.0.1", description="the broker's address")
    port: int = Field(1883, ge=1, le=65535, strict=True, description="the broker's TCP port")
    topic: str = Field("gesturekit/{source}/{gesture}",
                       description="topic template; placeholders {source}, {gesture}, {phase}")
    qos: int = Field(1, strict=True, description="0, 1 or 2 (1 and 2 are durable: nothing lost while the broker "
                                                 "is away)")
    retain: bool = Field(False, strict=True, description="publish retained messages")
    client_id: str | None = Field(None, description="default: gesturekit-<random>")
    username: str | None = None
    password: str | None = None
    keepalive: int = Field(30, ge=1, le=65535, strict=True, description="whole seconds between pings")
    clean_session: bool = Field(True, strict=True,
                                description="false keeps the session on the broker (needs a fixed client_id)")
    # reconnect_max comes first so that reconnect_min's check can see it
    reconnect_max: float = Field(30, ge=0.01, strict=True, description="longest reconnect backoff, seconds")
    reconnect_min: float = Field(0.5, ge=0.01, strict=True, validate_default=True,
                                 description="first reconnect backoff, seconds (<= reconnect_max)")
    # MQTT packet ids are 16-bit: with QoS >= 1 more than ~65k messages in flight would reuse ids.
    buffer: int = Field(60_000, ge=1, le=65_000, strict=True,
                        description="messages held while the broker is away (MQTT packet ids are 16-bit, "
                                    "so at most 65000)")
    drain_timeout: float = Field(5, ge=0, strict=True,
                                 description="seconds to wait for acknowledgements on shutdown")

    @field_validator("client_id", "username", "password", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:  # ``password: 1234`` in YAML is a number: use it as the text it was
        return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v

    @field_validator("port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        if isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 65535:
            raise ValueError("must be a port number 1..65535")
        return v

    @field_validator("topic")
    @classmethod
    def _topic(cls, v: str) -> str:
        try:
            check_template(v, _PLACEHOLDERS, "topic", "an MQTT topic")
        except ConfigError as e:
            raise ValueError(str(e).removeprefix("topic: ")) from None
        if "+" in v or "#" in v:
            raise ValueError("a topic to publish to cannot contain the wildcards + or #")
        return v

    @field_validator("qos")
    @classmethod
    def _qos(cls, v: int) -> int:
        if v not in (0, 1, 2):
            raise ValueError("must be 0, 1 or 2")
        return v

    @field_validator("reconnect_min")
    @classmethod
    def _backoff(cls, v: float, info: ValidationInfo) -> float:
        top = info.data.get("reconnect_max")
        if top is not None and v > top:
            raise ValueError(f"reconnect_min ({v:g} s) is larger than reconnect_max ({top:g} s)")
        return v


@options(MqttOptions)
class MqttSink:
    """Publishes events to an MQTT broker; durable with QoS >= 1.

    :param config: an :class:`MqttOptions` or its section as a plain dict.
    """

    def __init__(self, config: MqttOptions | Any = None) -> None:
        opts = sink_options(MqttOptions, config)
        self.options = opts
        self.host, self.port, self.topic = opts.host, opts.port, opts.topic
        self.qos, self.retain = opts.qos, opts.retain
        self.client_id = opts.client_id or f"gesturekit-{uuid.uuid4().hex[:8]}"
        self.keepalive = opts.keepalive
        self.reconnect_min, self.reconnect_max = float(opts.reconnect_min), float(opts.reconnect_max)
        self.buffer = opts.buffer
        self.drain_timeout = float(opts.drain_timeout)
        self.username, self.password = opts.username, opts.password
        self.clean_session = opts.clean_session
        self.durable = self.qos > 0
        self._mqtt = _import_paho()
        self._client: Any = None
        self._connected = threading.Event()
        self._closing = False
        # QoS >= 1: publishes accepted by the client and acknowledgements received (counters, not
        # sets of message ids: ids repeat after 65535 messages and an ack may beat publish()'s return)
        self._handed = 0
        self._acks = 0
        self._lock = threading.Lock()
        self._connects = 0
        self.reconnects = 0
        self.published = 0

    def open(self) -> None:
        """Start the client's network thread and connect in the background (a broker that is
        down now is retried with backoff; events are buffered meanwhile)."""
        mqtt = self._mqtt
        self._closing = False
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
                        self.unacknowledged)
        else:
            log.info("mqtt connected to %s:%d", self.host, self.port)
        self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self._connected.is_set() and not self._closing:
            log.warning("mqtt broker %s:%d lost (%s); reconnecting with backoff, buffering events", self.host,
                        self.port, reason)
        self._connected.clear()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        if self.qos > 0:  # QoS 1: PUBACK, QoS 2: PUBCOMP (QoS 0 messages are only written out)
            with self._lock:
                self._acks += 1

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
            with self._lock:
                self._handed += 1
        self.published += 1

    @property
    def unacknowledged(self) -> int:
        """Events handed to the client (QoS >= 1) that the broker has not acknowledged yet."""
        with self._lock:
            return max(0, self._handed - self._acks)

    @property
    def connected(self) -> bool:
        """True while the client holds an accepted connection to the broker."""
        return self._connected.is_set()

    def status(self) -> dict[str, Any]:
        """``{"connected", "unacknowledged"}``."""
        return {"connected": self.connected, "unacknowledged": self.unacknowledged}

    def close(self) -> None:
        """Wait up to ``drain_timeout`` s for the broker to acknowledge what was sent, then disconnect."""
        if self._client is None:
            return
        deadline = time.monotonic() + self.drain_timeout
        while self.unacknowledged and time.monotonic() < deadline:
            time.sleep(0.02)
        if self.unacknowledged:
            log.warning("mqtt: %d events not acknowledged by the broker at shutdown", self.unacknowledged)
        self._closing = True  # our own disconnect is not a lost broker
        self._client.disconnect()
        self._client.loop_stop()
        self._client = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"mqtt": MqttSink}
