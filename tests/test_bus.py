"""EventBus: fan-out, fault isolation (raising / blocked sinks), durable retries, frame stream."""

import logging
import threading
import time

import pytest
from peers import events, wait_for

from gesturekit import Frame
from gesturekit.bus import EventBus, stats_table

pytestmark = pytest.mark.timeout(60)


class Collect:
    def __init__(self):
        self.got = []

    def send(self, ev):
        self.got.append(ev)


class Raises:
    def __init__(self, every=1):
        self.n, self.every = 0, every

    def send(self, ev):
        self.n += 1
        if self.n % self.every == 0:
            raise RuntimeError("boom")


class Blocks:
    def __init__(self):
        self.release = threading.Event()
        self.entered = threading.Event()

    def send(self, ev):
        self.entered.set()
        self.release.wait()  # blocks "forever" (until the test ends)


class Flaky:
    """Fails its first ``fails`` sends (a peer that is down), then works."""

    durable = True

    def __init__(self, fails):
        self.fails, self.got = fails, []

    def send(self, ev):
        if self.fails > 0:
            self.fails -= 1
            raise ConnectionError("peer down")
        self.got.append(ev.seq)


def test_every_sink_gets_every_event_in_order():
    bus = EventBus()
    sinks = [Collect() for _ in range(3)]
    for i, s in enumerate(sinks):
        bus.add_sink(f"s{i}", s)
    evs = events(500)
    for e in evs:
        bus.publish(e)
    stats = bus.close()
    for s in sinks:
        assert [e.seq for e in s.got] == list(range(500))
    assert all(st["delivered"] == 500 and st["dropped"] == 0 for st in stats.values())


def test_raising_sink_is_logged_counted_and_isolated(caplog):
    caplog.set_level(logging.ERROR, logger="gesturekit.bus")
    bus = EventBus()
    good = Collect()
    bus.add_sink("bad", Raises())
    bus.add_sink("good", good)
    for e in events(200):
        bus.publish(e)
    stats = bus.close()
    assert [e.seq for e in good.got] == list(range(200))
    assert stats["bad"]["errors"] == 200 and stats["bad"]["delivered"] == 0
    assert "boom" in stats["bad"]["last_error"]
    assert any("sink 'bad' failed" in r.getMessage() for r in caplog.records)


def test_blocked_sink_never_stalls_publisher_or_others():
    bus = EventBus(queue_size=100)
    blocked, good = Blocks(), Collect()
    bus.add_sink("stuck", blocked)
    bus.add_sink("good", good, queue_size=10_000)
    evs = events(5000)
    t0 = time.perf_counter()
    for e in evs:
        bus.publish(e)
    elapsed = time.perf_counter() - t0
    # a publisher that waited on the stuck sink would never finish; the bound is loose for loaded CI
    assert elapsed < 10.0, f"publishing 5000 events took {elapsed:.2f} s with a blocked sink"
    wait_for(blocked.entered.is_set, what="the stuck sink to be in send()")
    assert bus.wait_idle(0.2) is False  # the stuck one never drains
    wait_for(lambda: len(good.got) == 5000, timeout=30, what="the good sink to get every event")
    stats = bus.stats()
    assert blocked.entered.is_set()
    assert stats["stuck"]["dropped"] == 5000 - 100 - 1  # one in its send, 100 queued, rest dropped
    assert stats["stuck"]["queued"] == 101
    t0 = time.perf_counter()
    final = bus.close(timeout=0.5)
    assert time.perf_counter() - t0 < 15
    assert final["good"]["delivered"] == 5000 and final["good"]["dropped"] == 0
    blocked.release.set()


def test_durable_sink_retries_and_loses_nothing():
    bus = EventBus()
    flaky = Flaky(fails=4)
    bus.add_sink("flaky", flaky, retry_max=0.05)
    for e in events(50):
        bus.publish(e)
    stats = bus.close(timeout=10)
    assert flaky.got == list(range(50))
    assert stats["flaky"]["errors"] == 4 and stats["flaky"]["dropped"] == 0 and stats["flaky"]["durable"]


def test_non_durable_sink_drops_failed_events():
    bus = EventBus()
    flaky = Flaky(fails=4)
    bus.add_sink("flaky", flaky, durable=False)
    for e in events(50):
        bus.publish(e)
    bus.close()
    assert flaky.got == list(range(4, 50))


def test_queue_overflow_drops_oldest_and_counts():
    bus = EventBus(queue_size=10)
    blocked = Blocks()
    bus.add_sink("stuck", blocked)
    for e in events(1):
        bus.publish(e)
    wait_for(blocked.entered.is_set)
    for e in events(30):
        bus.publish(e)
    assert bus.stats()["stuck"]["dropped"] == 20
    blocked.release.set()
    bus.close()


def test_frame_stream_is_rate_limited_and_separate():
    seen = []
    bus = EventBus(frame_rate=10)
    good = Collect()
    bus.add_sink("good", good)
    bus.add_frame_observer("obs", seen.append)
    offered = sum(bus.publish_frame(Frame(i, i / 100, 64, 48, "s"), now=i / 100) for i in range(100))
    assert offered == 10  # one second of 100 fps frames at 10 fps
    wait_for(lambda: len(seen) >= 1, what="a frame")
    assert good.got == []  # frames never reach event sinks
    bus.close()


def test_stats_table_and_log(caplog):
    caplog.set_level(logging.INFO, logger="gesturekit.bus")
    bus = EventBus()
    bus.add_sink("one", Collect())
    bus.publish(events(1)[0])
    bus.wait_idle()
    bus.log_stats()
    assert "sink 'one': delivered=1 dropped=0 errors=0 reconnects=0 queued=0" in caplog.text
    assert "one" in stats_table(bus.stats())
    with pytest.raises(ValueError):
        bus.add_sink("one", Collect())
    bus.close()
