"""TCP and UDP sinks: newline-delimited JSON to real sockets."""

import json
import socket
import threading

import pytest
from gesturekit_plugins.socket_sinks import TcpSink, UdpSink
from peers import events, free_port, wait_for

from gesturekit import ConfigError
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
