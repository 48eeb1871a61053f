"""OSC sink against a real python-osc UDP server: addresses, typed arguments, values as floats."""

import threading

import pytest
from gesturekit_plugins.osc_sink import OscOptions, OscSink
from peers import events, wait_for
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_server import ThreadingOSCUDPServer

from gesturekit import ConfigError, GestureEvent
from gesturekit.bus import EventBus

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def receiver():
    got = []
    d = Dispatcher()
    d.set_default_handler(lambda address, *args: got.append((address, args)))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield server.server_address[1], got
    server.shutdown()
    server.server_close()


def test_events_and_typed_values_arrive(receiver):
    port, got = receiver
    bus = EventBus()
    bus.add_sink("osc", OscSink({"port": port, "addresses": {"zoom_in": "/td/zoom/{phase}"}}))
    evs = events(20)
    for e in evs:
        bus.publish(e)
    bus.publish(GestureEvent("zoom_in", "pulse", t=1.5, seq=99, hands=({"id": 1, "handedness": "left"},
                                                                       {"id": 2, "handedness": "right"}),
                             score=0.75, values={"scale": 2}))
    # per pinch event: the event message and one value message; start/end add /active
    wait_for(lambda: len(got) == 20 * 2 + 2 + 2, what="every OSC message")
    bus.close()
    main = [(a, args) for a, args in got if a == "/gesturekit/pinch"]
    assert [args[2] for a, args in main] == list(range(20))  # seq, in order (one host, UDP loopback)
    phase, score, seq, t, hand = main[0][1]
    assert (phase, seq, hand) == ("start", 0, "right")
    assert isinstance(score, float) and abs(score - 0.9) < 1e-6
    assert isinstance(t, float) and isinstance(seq, int)
    dist = [args for a, args in got if a == "/gesturekit/pinch/distance"]
    assert len(dist) == 20 and all(isinstance(v[0], float) for v in dist)
    assert abs(dist[10][0] - 0.5) < 1e-6
    active = [args[0] for a, args in got if a == "/gesturekit/pinch/active"]
    assert active == [1.0, 0.0]
    zoom = [(a, args) for a, args in got if a.startswith("/td/zoom")]
    assert ("/td/zoom/pulse", ("pulse", 0.75, 99, 1.5, "both")) in zoom
    assert ("/td/zoom/pulse/scale", (2.0,)) in zoom


def test_bad_config_is_a_config_error():
    with pytest.raises(ConfigError, match="port"):
        OscSink({})
    with pytest.raises(ConfigError, match="addresses.x"):
        OscSink({"port": 9000, "addresses": {"x": "no-slash"}})
    with pytest.raises(ConfigError) as ei:
        OscSink({"port": 9000, "adress": "/x"})
    assert ei.value.field == "adress" and "unknown" in str(ei.value)
    with pytest.raises(ConfigError) as ei:
        OscSink({"port": 9000, "address": "/x/{gestur}"})
    assert ei.value.field == "address"


def test_options_model_defaults_and_registration():
    assert OscSink.options_model is OscOptions
    opts = OscOptions(port=7000)
    assert (opts.host, opts.address, opts.addresses, opts.values, opts.active) == \
        ("127.0.0.1", "/gesturekit/{gesture}", {}, True, True)
    sink = OscSink(opts)  # what the builder passes: the validated model
    assert sink.options is opts and (sink.host, sink.port, sink.address) == ("127.0.0.1", 7000, "/gesturekit/{gesture}")
    # a plain section may carry the bus's keys (type, enabled, queue_size, durable)
    assert OscSink({"type": "osc", "queue_size": 10, "port": 7000}).options == opts
    schema = OscOptions.model_json_schema()
    assert schema["required"] == ["port"] and schema["additionalProperties"] is False
    assert all(f.description for f in OscOptions.model_fields.values())


@pytest.mark.parametrize(("config", "field", "message"), [
    ({"port": 7000, "adress": "/x"}, "adress", "unknown setting"),
    ({}, "port", "required"),
    ({"port": 0}, "port", "1..65535"),
    ({"port": True}, "port", "1..65535"),
    ({"port": "7000"}, "port", "1..65535"),
    ({"port": 7000, "address": "x/{gesture}"}, "address", "starting with '/'"),
    ({"port": 7000, "address": "/x/{phase"}, "address", "bad braces"),
    ({"port": 7000, "address": "/x/{gesture!r}"}, "address", "unknown placeholder"),
    ({"port": 7000, "addresses": {"pinch": "/p/{hand}"}}, "addresses.pinch", "unknown placeholder {hand}"),
    ({"port": 7000, "addresses": ["/x"]}, "addresses", "must map gesture names"),
    ({"port": 7000, "values": "yes"}, "values", "boolean"),
    ({"port": 7000, "active": 1}, "active", "boolean"),
])
def test_options_errors_name_the_field(config, field, message):
    with pytest.raises(ConfigError) as ei:
        OscSink(config)
    assert ei.value.field == field and message in str(ei.value)
