"""Event bus throughput and latency: 10,000 events/s to JSONL + WebSocket (10 clients).

Publishes synthetic GestureEvents at a fixed rate through the real EventBus into the real
JSONL sink and the real WebSocket sink with 10 real clients (in separate processes, on the same
monotonic clock), with the sinks' **default** queue sizes, and prints the median / p99 latency
from event creation to delivery (bus hop; JSONL: written and flushed; WebSocket: received by a
client), with the ratio against the raw MediaPipe per-frame inference time (lite model,
asl_hand.25fps.mp4) measured in the same run.

Targets, each printed as PASS or FAIL (the exit status is 1 when any fails):
the publisher sustains the rate (10,000 events/s), no event is dropped anywhere (bus queues,
the websocket sink, every client receives every event, JSONL has every line), and the bus hop
(creation -> ``sink.send``) has a median below 1 ms.

    .venv/bin/python benchmarks/bench_bus.py [--rate 10000] [--seconds 3] [--clients 10] [--procs 1]

``--procs`` spreads the clients over that many client processes (to tell a slow server from
a client process that cannot parse 10 x rate messages per second).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import cv2
from gesturekit_plugins.jsonl_sink import JsonlSink
from gesturekit_plugins.websocket_sink import WebSocketSink

from gesturekit import GestureEvent
from gesturekit.bus import EventBus

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GESTUREKIT_DATA", REPO.parent / "shared" / "data"))


class TimedJsonl(JsonlSink):
    """The real JSONL sink, noting each event's latency once written (``event.t`` holds its
    creation time on the ``perf_counter`` clock)."""

    def __init__(self, config, lat: list[float]) -> None:
        super().__init__(config)
        self.lat = lat

    def send(self, event: GestureEvent) -> None:
        super().send(event)
        self.lat.append(time.perf_counter() - event.t)


class Probe:
    """A sink that only notes when the bus handed it the event (the bus's own hop)."""

    def __init__(self, lat: list[float]) -> None:
        self.lat = lat

    def send(self, event: GestureEvent) -> None:
        self.lat.append(time.perf_counter() - event.t)


# The WebSocket clients run in another process (their own interpreter and GIL, like real
# clients). time.perf_counter is CLOCK_MONOTONIC on Linux: one clock for both processes.
CLIENTS = r"""
import asyncio, json, statistics, sys, time
from websockets.asyncio.client import connect
url, n, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
lat = [[] for _ in range(n)]
async def one(i, c):
    while len(lat[i]) < total:
        msg = await c.recv()
        now = time.perf_counter()
        t = float(msg[msg.index('"t":') + 4: msg.index(',"seq"')])
        lat[i].append(now - t)
async def main():
    conns = [await connect(url, max_queue=None) for _ in range(n)]
    print("READY", flush=True)
    await asyncio.wait_for(asyncio.gather(*(one(i, c) for i, c in enumerate(conns))), float(sys.argv[4]))
    for c in conns:
        await c.close()
asyncio.run(main())
allv = sorted(x for l in lat for x in l)
print(json.dumps({"counts": [len(l) for l in lat], "median": statistics.median(allv),
                  "p99": allv[int(0.99 * (len(allv) - 1))]}), flush=True)
"""


def mediapipe_per_frame(clip: str, frames: int = 150) -> float:
    """Median seconds of one raw HandLandmarker.detect_for_video call (lite model)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from gesturekit.tracking import model_bundle

    opts = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_buffer=model_bundle("lite")),
                                        running_mode=vision.RunningMode.VIDEO, num_hands=2)
    landmarker = vision.HandLandmarker.create_from_options(opts)
    cap = cv2.VideoCapture(clip)
    times = []
    n = 0
    while n < frames:
        ok, img = cap.read()
        if not ok:
            break
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=cv2.cvtColor(img, cv2.COLOR_BGR2RGB))
        t0 = time.perf_counter()
        landmarker.detect_for_video(image, n * 40)
        times.append(time.perf_counter() - t0)
        n += 1
    landmarker.close()
    return statistics.median(times)


def run_bus(rate: int, seconds: float, n_clients: int, procs: int = 1) -> dict:
    import json
    import subprocess

    total = int(rate * seconds)
    lat_file: list[float] = []
    lat_bus: list[float] = []
    tmp = tempfile.mkdtemp(prefix="gk-bench-")
    bus = EventBus()  # default queue sizes: drops are possible, and counted
    bus.add_sink("jsonl", TimedJsonl({"path": os.path.join(tmp, "events.jsonl"), "fsync_interval": 1.0}, lat_file))
    ws = WebSocketSink({"port": 0})
    bus.add_sink("websocket", ws)
    bus.add_sink("probe", Probe(lat_bus))
    per = [n_clients // procs + (1 if i < n_clients % procs else 0) for i in range(procs)]
    client_procs = [subprocess.Popen([sys.executable, "-c", CLIENTS, f"ws://127.0.0.1:{ws.port}", str(k),
                                      str(total), str(seconds + 60)], stdout=subprocess.PIPE, text=True)
                    for k in per if k]
    for cp in client_procs:
        assert cp.stdout.readline().strip() == "READY"
    while ws.client_count < n_clients:
        time.sleep(0.01)
    hands = ({"id": 1, "handedness": "right"},)
    tick = max(1, rate // 1000)  # publish in 1 ms ticks, sleeping in between
    start = time.perf_counter()
    for i in range(total):
        if i % tick == 0:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        bus.publish(GestureEvent("pinch", "update", t=time.perf_counter(), seq=i, hands=hands, score=0.9,
                                 values={"distance": 0.1}, source="bench", frame=i))
    publish_s = time.perf_counter() - start
    results = []
    for cp in client_procs:
        out, _ = cp.communicate(timeout=seconds + 90)
        results.append(json.loads(out.strip().splitlines()[-1]))
    stats = bus.close(10)
    ws_res = {"counts": [c for r in results for c in r["counts"]],
              "median": statistics.median([r["median"] for r in results]), "p99": max(r["p99"] for r in results)}
    return {"total": total, "publish_s": publish_s, "stats": stats, "counts": ws_res["counts"],
            "written": len(lat_file), "lat_file": lat_file, "lat_bus": lat_bus, "ws": ws_res,
            "ws_dropped": ws.status().get("dropped", 0)}


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rate", type=int, default=10_000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--procs", type=int, default=1, help="client processes the clients are spread over")
    ap.add_argument("--clip", default=str(DATA / "tracking" / "asl_hand.25fps.mp4"))
    args = ap.parse_args()
    if not Path(args.clip).exists():
        sys.exit(f"clip not found: {args.clip} (set GESTUREKIT_DATA)")
    mp_s = mediapipe_per_frame(args.clip)
    r = run_bus(args.rate, args.seconds, args.clients, args.procs)
    total = r["total"]
    dropped = {k: v["dropped"] for k, v in r["stats"].items()}
    no_drops = (all(v == 0 for v in dropped.values()) and r["ws_dropped"] == 0 and r["written"] == total
                and all(c == total for c in r["counts"]))
    achieved = total / r["publish_s"]
    mb, mf, mw = statistics.median(r["lat_bus"]), statistics.median(r["lat_file"]), r["ws"]["median"]
    print(f"cores: {os.cpu_count()}, events: {total} at {args.rate}/s (published in {r['publish_s']:.2f} s), "
          f"websocket clients: {args.clients} in {args.procs} process(es)")
    print(f"delivered: jsonl {r['written']}/{total}, websocket per client min {min(r['counts'])}/{total}; "
          f"bus dropped {dropped}, websocket sink dropped {r['ws_dropped']}")
    print(f"latency creation->sink.send (bus hop): median {mb * 1000:.3f} ms, "
          f"p99 {pct(r['lat_bus'], .99) * 1000:.3f} ms")
    print(f"latency creation->jsonl written     : median {mf * 1000:.3f} ms, "
          f"p99 {pct(r['lat_file'], .99) * 1000:.3f} ms")
    print(f"latency creation->ws client received: median {mw * 1000:.3f} ms, p99 {r['ws']['p99'] * 1000:.3f} ms")
    print(f"raw MediaPipe lite inference    : median {mp_s * 1000:.2f} ms/frame ({Path(args.clip).name})")
    print(f"ratio latency / MediaPipe frame: bus hop {mb / mp_s:.4f}, jsonl {mf / mp_s:.4f}, websocket {mw / mp_s:.4f}")
    targets = [
        (f"rate >= {args.rate}/s (achieved {achieved:,.0f}/s)", achieved >= 0.98 * args.rate),
        ("no drops (bus, websocket sink, every client, jsonl)", no_drops),
        (f"bus hop median < 1 ms ({mb * 1000:.3f} ms)", mb < 0.001),
    ]
    for name, ok in targets:
        print(f"{'PASS' if ok else 'FAIL'}: {name}")
    sys.exit(0 if all(ok for _, ok in targets) else 1)


if __name__ == "__main__":
    main()
