"""WebSocket sink with real clients: 50 concurrent clients, abrupt disconnects, tokens, frames."""

import asyncio
import json
import threading
import time

import pytest
from gesturekit_plugins.websocket_sink import WebSocketSink
from peers import events, wait_for
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from gesturekit import ConfigError, Frame
from gesturekit.bus import EventBus

pytestmark = pytest.mark.timeout(120)

N_EVENTS = 200


async def _recv_n(ws, n, timeout=30):
    out = []
    while len(out) < n:
        out.append(json.loads(await asyncio.wait_for(ws.recv(), timeout)))
    return out


def test_fifty_clients_each_get_every_event_despite_abrupt_disconnects():
    bus = EventBus()
    sink = WebSocketSink({"port": 0})
    bus.add_sink("ws", sink)
    url = f"ws://127.0.0.1:{sink.port}"

    async def main():
        clients = [await connect(url) for _ in range(50)]
        vanishing = [await connect(url) for _ in range(10)]
        wait_for(lambda: sink.client_count == 60, what="60 connected clients")
        evs = events(N_EVENTS)
        loop = asyncio.get_running_loop()
        for e in evs[:50]:
            bus.publish(e)
        await asyncio.sleep(0.2)
        for v in vanishing:  # gone without a closing handshake
            v.transport.abort()
        for e in evs[50:]:
            bus.publish(e)
        got = await asyncio.gather(*[_recv_n(c, N_EVENTS) for c in clients])
        await loop.run_in_executor(None, lambda: wait_for(lambda: sink.client_count == 50,
                                                          what="vanished clients cleaned up"))
        for c in clients:
            await c.close()
        return got

    got = asyncio.run(main())
    for g in got:
        assert [d["seq"] for d in g] == list(range(N_EVENTS))
        assert g[0] == events(N_EVENTS)[0].to_dict()
    stats = bus.close()
    assert stats["ws"]["delivered"] == N_EVENTS and stats["ws"]["errors"] == 0


def test_token_wrong_refused_right_accepted_and_frames_on_request():
    bus = EventBus(frame_rate=1000)
    sink = WebSocketSink({"port": 0, "token": "s3cret"})
    bus.add_sink("ws", sink)
    base = f"ws://127.0.0.1:{sink.port}"

    async def main():
        with pytest.raises(InvalidStatus) as ei:
            await connect(base + "/?token=nope")
        assert ei.value.response.status_code == 401
        with pytest.raises(InvalidStatus):
            await connect(base)
        plain = await connect(base + "/?token=s3cret")
        framed = await connect(base, additional_headers={"Authorization": "Bearer s3cret"})
        await framed.send(json.dumps({"frames": True}))
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: wait_for(lambda: sink.status()["frame_clients"] == 1,
                                                          what="the server to switch frames on"))
        bus.publish_frame(Frame(7, 0.25, 640, 480, "cam"))
        bus.publish(events(1)[0])
        # the frame stream and the event stream are separate: either may arrive first
        two = [json.loads(await asyncio.wait_for(framed.recv(), 5)) for _ in range(2)]
        f = next(m for m in two if "type" in m)
        e2 = next(m for m in two if "type" not in m)
        e1 = json.loads(await asyncio.wait_for(plain.recv(), 5))
        await plain.close()
        await framed.close()
        return f, e1, e2

    f, e1, e2 = asyncio.run(main())
    assert f["type"] == "frame" and f["index"] == 7 and f["width"] == 640
    assert "type" not in e1 and e1 == e2 == events(1)[0].to_dict()
    assert sink.refused == 2
    bus.close()


def test_non_loopback_needs_token_and_default_is_loopback():
    with pytest.raises(ConfigError, match="token"):
        WebSocketSink({"host": "0.0.0.0", "port": 0})
    assert WebSocketSink({}).host == "127.0.0.1"


def test_origin_check_local_pages_and_listed_origins_only():
    sink = WebSocketSink({"port": 0, "origins": ["https://dash.example.org"]})
    sink.open()
    url = f"ws://127.0.0.1:{sink.port}"

    async def main():
        for foreign in ("https://evil.example.com", "null"):  # null: a sandboxed iframe on any site
            with pytest.raises(InvalidStatus) as ei:
                await connect(url, origin=foreign)
            assert ei.value.response.status_code == 403
        for origin in (None, "http://localhost:3000", "http://127.0.0.1:8000", "https://dash.example.org"):
            c = await connect(url, origin=origin)
            await c.close()

    try:
        asyncio.run(main())
    finally:
        sink.close()
    assert sink.status()["refused_origin"] == 2 and sink.connections == 4


def test_pending_messages_are_bounded_and_drops_counted():
    sink = WebSocketSink({"port": 0, "max_pending": 50})
    sink.open()
    url = f"ws://127.0.0.1:{sink.port}"

    async def main():
        c = await connect(url)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: wait_for(lambda: sink.client_count == 1, what="the client"))
        stalled = threading.Event()
        sink._loop.call_soon_threadsafe(lambda: (stalled.set(), time.sleep(1.0)))  # the server thread is busy
        assert stalled.wait(5)
        for e in events(80):
            sink.send(e)
        got = await _recv_n(c, 50)
        await c.close()
        return got

    try:
        got = asyncio.run(main())
    finally:
        sink.close()
    assert [d["seq"] for d in got] == list(range(30, 80))  # the oldest 30 were dropped, and counted
    assert sink.status()["dropped"] == 30


def test_unknown_options_are_config_errors():
    with pytest.raises(ConfigError) as ei:
        WebSocketSink({"port": 0, "tokn": "s3cret"})
    assert ei.value.field == "tokn" and "unknown" in str(ei.value)
    with pytest.raises(ConfigError) as ei:
        WebSocketSink({"port": 0, "origins": "https://a.example", "frames": "yes"})
    assert ei.value.field == "frames"


def test_a_client_connecting_mid_gesture_first_hears_of_it():
    bus = EventBus()
    sink = WebSocketSink({"port": 0})
    bus.add_sink("ws", sink)
    url = f"ws://127.0.0.1:{sink.port}"
    evs = events(10)

    async def main():
        for e in evs[:5]:  # start + updates: the gesture is active
            bus.publish(e)
        await asyncio.get_running_loop().run_in_executor(
            None, lambda: wait_for(lambda: bus.stats()["ws"]["delivered"] == 5, what="5 events delivered"))
        async with connect(url) as late:
            first = json.loads(await asyncio.wait_for(late.recv(), 10))
            for e in evs[5:]:
                bus.publish(e)
            rest = await _recv_n(late, 5)
        return first, rest

    first, rest = asyncio.run(main())
    assert first == evs[4].to_dict()  # the gesture's latest event, before anything new
    assert [d["seq"] for d in rest] == [5, 6, 7, 8, 9]
    bus.close()
    # once it ended, a new client hears nothing old
    sink2 = WebSocketSink({"port": 0})
    sink2.open()
    for e in evs:
        sink2.send(e)
    assert sink2._active == {}
    sink2.close()
