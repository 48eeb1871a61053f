"""MQTT sink against a real mosquitto broker (started by the test on a free port)."""

import json
import logging
import subprocess
import threading

import paho.mqtt.client as mqtt
import pytest
from gesturekit_plugins.mqtt_sink import MqttSink
from peers import Mosquitto, daemon_cmd, events, real_clip_recording, wait_for

from gesturekit import ConfigError
from gesturekit.bus import EventBus

pytestmark = pytest.mark.timeout(180)


class Subscriber:
    """A persistent-session QoS 1 subscriber that survives broker restarts."""

    def __init__(self, port, topic="gesturekit/#"):
        self.got, self.topics = [], []
        self.subscribed = threading.Event()
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"test-sub-{port}", clean_session=False)
        c.reconnect_delay_set(1, 1)
        c.on_connect = lambda cl, u, f, rc, p: cl.subscribe(topic, qos=1)
        c.on_subscribe = lambda *a: self.subscribed.set()
        c.on_message = self._on_message
        c.connect("127.0.0.1", port, keepalive=5)
        c.loop_start()
        self.client = c
        assert self.subscribed.wait(10), "the test subscriber could not subscribe"

    def _on_message(self, client, userdata, msg):
        self.topics.append(msg.topic)
        self.got.append(json.loads(msg.payload))

    def seqs(self):
        return [d["seq"] for d in self.got]

    def close(self):
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path)
    b.start()
    yield b
    b.stop()


def test_every_event_arrives_in_order(broker):
    sub = Subscriber(broker.port)
    bus = EventBus()
    bus.add_sink("mqtt", MqttSink({"port": broker.port}))
    for e in events(300):
        bus.publish(e)
    wait_for(lambda: len(sub.got) >= 300, timeout=30, what="300 MQTT messages")
    stats = bus.close()
    sub.close()
    assert sub.seqs() == list(range(300))
    assert set(sub.topics) == {"gesturekit/synthetic/pinch"}
    assert sub.got[5] == events(300)[5].to_dict()
    assert stats["mqtt"]["delivered"] == 300 and stats["mqtt"]["dropped"] == 0


def test_a_clean_close_logs_no_lost_broker(broker, caplog):
    bus = EventBus()
    sink = MqttSink({"port": broker.port})
    bus.add_sink("mqtt", sink)
    wait_for(lambda: sink.connected, timeout=10, what="the MQTT connection")
    with caplog.at_level(logging.INFO, logger="gesturekit"):
        for e in events(5):
            bus.publish(e)
        bus.close()
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_broker_restart_mid_run_loses_nothing_with_qos1(broker):
    sub = Subscriber(broker.port)
    bus = EventBus()
    sink = MqttSink({"port": broker.port, "reconnect_min": 1, "reconnect_max": 1})
    bus.add_sink("mqtt", sink)
    evs = events(400)
    for e in evs[:150]:
        bus.publish(e)
    wait_for(lambda: len(sub.got) >= 50, timeout=30, what="the first messages")
    broker.stop()  # mid-run: some of the first 150 may still be in flight
    wait_for(lambda: not sink.status()["connected"], timeout=15, what="the sink to notice the broker is gone")
    for e in evs[150:]:
        bus.publish(e)  # buffered while the broker is down
    assert bus.wait_idle(10)
    broker.start()
    try:
        wait_for(lambda: set(sub.seqs()) >= set(range(400)), timeout=30, what="every event after the restart")
    except AssertionError:
        missing = sorted(set(range(400)) - set(sub.seqs()))
        raise AssertionError(f"missing {len(missing)} events: {missing[:20]}..., sink {sink.status()}, "
                             f"got {len(sub.got)}; broker log: {(broker.dir / 'mosquitto.log').read_text()[-1500:]}") \
            from None
    stats = bus.close()
    sub.close()
    assert sorted(set(sub.seqs())) == list(range(400))  # QoS 1: at least once, nothing lost
    firsts = list(dict.fromkeys(sub.seqs()))  # duplicates (redeliveries) aside, in order
    assert firsts == list(range(400))
    assert stats["mqtt"]["reconnects"] >= 1


def test_daemon_run_over_real_clip_arrives_in_order(broker, tmp_path):
    """The daemon tracks a real clip (MediaPipe output cached per session), classifies it with
    the gesture library and every event reaches an MQTT subscriber, in order."""
    rec = real_clip_recording("tracking/thumb_up_video.mp4")
    sub = Subscriber(broker.port)
    cfg = tmp_path / "daemon.yaml"
    cfg.write_text(f"""
source: {rec}
sinks:
  broker: {{type: mqtt, port: {broker.port}, topic: "gesturekit/{{source}}/{{gesture}}"}}
  file: {{type: jsonl, path: {tmp_path / 'events.jsonl'}}}
health: {{enabled: false}}
""")
    r = subprocess.run(daemon_cmd(cfg), capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    written = [json.loads(x) for x in (tmp_path / "events.jsonl").read_text().splitlines()]
    assert written, ("the real clip produced no events: the gesture library / temporal engine "
                     "(build_classifiers/build_engine) must be wired in")
    wait_for(lambda: len(sub.got) >= len(written), timeout=30, what="every event at the subscriber")
    sub.close()
    assert sub.got == written
    assert [d["seq"] for d in sub.got] == sorted(d["seq"] for d in sub.got)
    assert all(t.startswith(f"gesturekit/{rec.name}/") for t in sub.topics)


def test_broker_down_at_open_warns_then_connects_and_delivers(tmp_path, caplog):
    b = Mosquitto(tmp_path)  # its port is chosen, the broker not started yet
    sink = MqttSink({"port": b.port, "reconnect_min": 0.2, "reconnect_max": 0.5})
    bus = EventBus()
    try:
        with caplog.at_level(logging.WARNING, "gesturekit.sinks.mqtt"):
            bus.add_sink("mqtt", sink)
        assert not sink.connected and "not reachable" in caplog.text
        for e in events(20):
            bus.publish(e)  # buffered in the client meanwhile
        b.start()
        wait_for(lambda: sink.connected, timeout=10, what="the sink to connect once the broker is up")
        sub = Subscriber(b.port, topic="gesturekit/#")
        for e in events(40)[20:]:
            bus.publish(e)
        wait_for(lambda: len(sub.got) >= 20, timeout=20, what="the events published after subscribing")
        sub.close()
        assert sub.seqs()[-20:] == list(range(20, 40))
        stats = bus.close()
        assert stats["mqtt"]["delivered"] == 40
    finally:
        b.stop()


def test_bad_options_name_the_field():
    for cfg, field in (({"buffer": -5}, "buffer"), ({"buffer": 70_000}, "buffer"), ({"keepalive": "abc"}, "keepalive"),
                       ({"keepalive": 2.5}, "keepalive"), ({"tokn": "x"}, "tokn"),
                       ({"reconnect_min": 5, "reconnect_max": 1}, "reconnect_min"),
                       ({"topic": "a/{nope}"}, "topic"), ({"retain": "yes"}, "retain"), ({"port": 0}, "port")):
        with pytest.raises(ConfigError) as ei:
            MqttSink(cfg)
        assert ei.value.field == field, (cfg, ei.value)
    assert MqttSink({"reconnect_min": 0.25, "reconnect_max": 0.5}).reconnect_min == 0.25
