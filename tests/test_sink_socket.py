"""TCP and UDP sinks: newline-delimited JSON to real sockets."""

import json
import logging
import socket
import threading
import time

import pytest
from gesturekit_plugins.socket_sinks import TcpOptions, TcpSink, UdpOptions, UdpSink
from peers import events, free_port, wait_for

from gesturekit import ConfigError, GestureEvent
from gesturekit.bus import EventBus

pytestmark = pytest.mark.timeout(60)


def _serve_lines(srv, out, n):
    conn, _ = srv.accept()
    with conn, conn.makefile("r") as f:
        for line in f:
            out.append(json.loads(line))
            if len(out) >= n:
                return


def test_tcp_connect_buffers_until_the_peer_listens():
    port = free_port()
    bus = EventBus()
    bus.add_sink("tcp", TcpSink({"port": port}))
    for e in events(100):
        bus.publish(e)  # nobody listens yet: durable, retried with backoff
    wait_for(lambda: bus.stats()["tcp"]["errors"] >= 1, what="a failed connect")
    got = []
    with socket.create_server(("127.0.0.1", port)) as srv:
        srv.settimeout(20)
        t = threading.Thread(target=_serve_lines, args=(srv, got, 100))
        t.start()
        t.join(30)
    stats = bus.close()
    assert [d["seq"] for d in got] == list(range(100))
    assert stats["tcp"]["delivered"] == 100 and stats["tcp"]["dropped"] == 0


def test_tcp_listen_serves_many_clients_and_drops_vanished():
    bus = EventBus()
    sink = TcpSink({"mode": "listen", "port": 0})
    bus.add_sink("tcp", sink)
    clients = [socket.create_connection(("127.0.0.1", sink.port)) for _ in range(5)]
    wait_for(lambda: sink.status()["clients"] == 5, what="5 clients")
    clients.pop().close()
    wait_for(lambda: sink.status()["clients"] == 4, what="the vanished client removed")
    for e in events(50):
        bus.publish(e)
    for c in clients:
        f = c.makefile("r")
        assert [json.loads(f.readline())["seq"] for _ in range(50)] == list(range(50))
        c.close()
    bus.close()


def test_udp_one_datagram_per_event():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as rx:
        rx.bind(("127.0.0.1", 0))
        rx.settimeout(5)
        bus = EventBus()
        bus.add_sink("udp", UdpSink({"port": rx.getsockname()[1]}))
        for e in events(20):
            bus.publish(e)
        got = [json.loads(rx.recv(65536)) for _ in range(20)]
        bus.close()
    assert [d["seq"] for d in got] == list(range(20))


def test_listen_on_network_needs_token():
    with pytest.raises(ConfigError, match="token"):
        TcpSink({"mode": "listen", "host": "0.0.0.0", "port": 0})


def _serve_then_close(port, got, n, ready):
    """A peer that reads ``n`` lines and then closes the connection (and stops listening)."""
    with socket.create_server(("127.0.0.1", port)) as srv:
        ready.set()
        srv.settimeout(20)
        c, _ = srv.accept()
    with c, c.makefile("r") as f:
        while len(got) < n:
            got.append(json.loads(f.readline())["seq"])


def test_tcp_connect_peer_gone_loses_no_event_and_reconnects(caplog):
    port = free_port()
    got: list[int] = []
    ready = threading.Event()
    t1 = threading.Thread(target=_serve_then_close, args=(port, got, 10, ready))
    t1.start()
    assert ready.wait(10)
    bus = EventBus()
    sink = TcpSink({"port": port})
    bus.add_sink("tcp", sink)
    assert sink.connected
    evs = events(40)
    for e in evs[:10]:
        bus.publish(e)
    t1.join(20)
    assert not t1.is_alive() and len(got) == 10  # the peer has read 10 lines and closed
    with caplog.at_level(logging.WARNING, "gesturekit.sinks.socket"):
        for e in evs[10:20]:  # nobody listens now: the first of these used to vanish into the dead socket
            bus.publish(e)
        wait_for(lambda: bus.stats()["tcp"]["errors"] >= 1, what="a failed reconnect")
        assert not sink.connected
        ready2 = threading.Event()
        t2 = threading.Thread(target=_serve_then_close, args=(port, got, 40, ready2))
        t2.start()
        assert ready2.wait(10)
        for e in evs[20:]:
            bus.publish(e)
        t2.join(30)
    stats = bus.close()
    assert got == list(range(40))
    assert stats["tcp"]["delivered"] == 40 and stats["tcp"]["reconnects"] == 1
    assert "closed the connection" in caplog.text


def test_tcp_connect_warns_when_peer_unreachable_at_open(caplog):
    sink = TcpSink({"port": free_port()})
    with caplog.at_level(logging.WARNING, "gesturekit.sinks.socket"):
        sink.open()
    assert not sink.connected
    assert "not reachable" in caplog.text
    sink.close()


def test_tcp_listen_silent_client_does_not_stall_accept_and_is_refused():
    sink = TcpSink({"mode": "listen", "port": 0, "token": "s3cret", "timeout": 3})
    sink.open()
    try:
        silent = socket.create_connection(("127.0.0.1", sink.port))  # never sends its token
        t0 = time.monotonic()
        good = socket.create_connection(("127.0.0.1", sink.port))
        good.sendall(b"s3cret\n")
        wait_for(lambda: sink.client_count == 1, timeout=1.5, what="the second client accepted at once")
        assert time.monotonic() - t0 < 1.5
        wrong = socket.create_connection(("127.0.0.1", sink.port))
        wrong.sendall(b"nope\n")
        wrong.settimeout(5)
        assert wrong.recv(10) == b""  # refused: closed by the server
        silent.settimeout(10)
        assert silent.recv(10) == b""  # refused after the 3 s timeout
        assert sink.status()["refused"] == 2 and sink.client_count == 1
        sink.send(events(1)[0])
        good.settimeout(5)
        assert json.loads(good.makefile("r").readline())["seq"] == 0
        for s in (silent, good, wrong):
            s.close()
    finally:
        sink.close()


def _big_events(n):
    values = {f"v{i}": i / 7 for i in range(80)}  # ~2 KB per line
    return [GestureEvent("pinch", "update", t=i / 30, seq=i, hands=({"id": 1, "handedness": "right"},), score=0.9,
                         values=values, source="synthetic", frame=i) for i in range(n)]


def test_tcp_listen_stuck_client_is_disconnected_and_does_not_stall_others():
    n = 6000  # ~12 MB: far more than the kernel buffers of the stuck client take
    bus = EventBus()
    # max_buffer: 1 MiB by default; timeout only bounds the token handshake, never a send
    sink = TcpSink({"mode": "listen", "port": 0, "timeout": 10})
    bus.add_sink("tcp", sink, queue_size=n)
    stuck = socket.socket()
    stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    stuck.connect(("127.0.0.1", sink.port))  # connects, never reads
    good = socket.create_connection(("127.0.0.1", sink.port))
    wait_for(lambda: sink.client_count == 2, what="2 clients")
    got = []

    def read():
        with good.makefile("r") as f:
            while len(got) < n:
                line = f.readline()
                if not line.endswith("\n"):
                    return
                got.append(json.loads(line)["seq"])

    reader = threading.Thread(target=read)
    reader.start()
    t0 = time.monotonic()
    for i, e in enumerate(_big_events(n)):
        if i % 200 == 0:  # a reader that keeps up (within ~1 MB); the stuck one falls ever further behind
            wait_for(lambda i=i: len(got) >= i - 400 or not reader.is_alive(), timeout=20,
                     what=f"the reading client to get event {i - 400}")
        bus.publish(e)
    reader.join(30)
    elapsed = time.monotonic() - t0
    stats = bus.close()
    assert got == list(range(n)), f"the reading client got {len(got)} of {n}"
    assert elapsed < 8  # no send ever waited for the stuck client
    assert sink.slow_disconnects == 1 and stats["tcp"]["dropped"] == 0
    stuck.close()
    good.close()


def test_tcp_listen_close_closes_clients_mid_handshake():
    sink = TcpSink({"mode": "listen", "port": 0, "token": "s3cret", "timeout": 30})
    sink.open()
    port = sink.port
    pending = socket.create_connection(("127.0.0.1", port))  # still in its handshake at close()
    wait_for(lambda: len(sink._clients) == 1, what="the handshake to start")
    sink.close()
    pending.settimeout(3)
    assert pending.recv(10) == b""  # closed by close(), not left open for 30 s
    pending.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2)


def test_unknown_and_bad_options_name_the_field():
    with pytest.raises(ConfigError) as ei:
        TcpSink({"mode": "listen", "port": 0, "tokn": "s3cret"})
    assert ei.value.field == "tokn" and "unknown" in str(ei.value)
    with pytest.raises(ConfigError) as ei:
        UdpSink({"port": 9, "adress": "x"})
    assert ei.value.field == "adress"
    with pytest.raises(ConfigError) as ei:
        TcpSink({"port": "9000"})
    assert ei.value.field == "port"


def test_options_models_defaults_and_registration():
    assert TcpSink.options_model is TcpOptions and UdpSink.options_model is UdpOptions
    tcp = TcpOptions(port=9000)
    assert (tcp.mode, tcp.host, tcp.token, tcp.timeout, tcp.max_buffer) == ("connect", "127.0.0.1", None, 2.0, 1048576)
    sink = TcpSink(tcp)  # what the builder passes: the validated model
    assert sink.options is tcp and sink.durable and (sink.mode, sink.port, sink.timeout) == ("connect", 9000, 2.0)
    assert TcpSink({"type": "tcp", "durable": True, "port": 9000}).options == tcp
    assert not TcpSink({"mode": "listen", "port": 0}).durable
    udp = UdpOptions(port=9001)
    assert udp.host == "127.0.0.1" and UdpSink(udp).options is udp
    for model in (TcpOptions, UdpOptions):
        assert model.model_json_schema()["required"] == ["port"]
        assert all(f.description for f in model.model_fields.values())


@pytest.mark.parametrize(("config", "field", "message"), [
    ({"port": 9000, "tokn": "s3cret"}, "tokn", "unknown setting"),
    ({}, "port", "required"),
    ({"port": 0}, "port", "1..65535"),  # 0 (any free port) only when listening
    ({"mode": "listen", "port": 65536}, "port", "0..65535"),
    ({"mode": "serve", "port": 9000}, "mode", "'connect' or 'listen'"),
    ({"port": 9000, "token": ""}, "token", "at least 1 character"),
    ({"mode": "listen", "host": "0.0.0.0", "port": 0}, "token", "reachable from the network"),
    ({"mode": "listen", "host": "192.168.1.5", "port": 0, "token": None}, "token", "set a token"),
    ({"port": 9000, "timeout": 0}, "timeout", "greater than or equal to 0.01"),
    ({"port": 9000, "timeout": "2"}, "timeout", "number"),
    ({"port": 9000, "max_buffer": 100}, "max_buffer", "1024"),
    ({"port": 9000, "max_buffer": 2048.0}, "max_buffer", "integer"),
])
def test_tcp_options_errors_name_the_field(config, field, message):
    with pytest.raises(ConfigError) as ei:
        TcpSink(config)
    assert ei.value.field == field and message in str(ei.value)


def test_token_rule_off_loopback_only_in_listen_mode():
    assert TcpSink({"mode": "listen", "host": "0.0.0.0", "port": 0, "token": "s3cret"}).token == "s3cret"
    assert TcpSink({"mode": "listen", "host": "::1", "port": 0}).token is None  # loopback: no token needed
    assert TcpSink({"host": "192.168.1.5", "port": 9000}).mode == "connect"  # a client: no rule


@pytest.mark.parametrize(("config", "field"), [
    ({"port": 9, "adress": "x"}, "adress"),
    ({"port": 0}, "port"),
    ({"port": 9, "host": ""}, "host"),
])
def test_udp_options_errors_name_the_field(config, field):
    with pytest.raises(ConfigError) as ei:
        UdpSink(config)
    assert ei.value.field == field
