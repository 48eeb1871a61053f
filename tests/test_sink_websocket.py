"""WebSocket sink with real clients: 50 concurrent clients, abrupt disconnects, tokens, frames."""

import asyncio
import json

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
        await asyncio.sleep(0.3)
        bus.publish_frame(Frame(7, 0.25, 640, 480, "cam"))
        await asyncio.sleep(0.2)
        bus.publish(events(1)[0])
        f = json.loads(await asyncio.wait_for(framed.recv(), 5))
        e2 = json.loads(await asyncio.wait_for(framed.recv(), 5))
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
