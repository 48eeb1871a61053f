"""The one benchmark: gesturekit against the raw MediaPipe loop, measured in the same run.

    .venv/bin/python benchmarks/run.py [--quick] [--json OUT] [--duration SECONDS]

For each model (lite, full) and clip (one hand: the shared ASL clip; two hands: that clip beside
its mirror, built in a temp dir) it measures

- the raw loop people write by hand (cv2 decode -> RGB -> HandLandmarker.detect_for_video, one
  thread), ms/frame, its graph's creation included as gesturekit's is;
- the whole ``gesturekit run`` chain on the file (decode -> track -> every library gesture ->
  the ASL classifier when installed -> JSONL sink), sequential (``parallel.workers: 1``) and
  parallel (``parallel.workers: auto``), as frames/s and the ratio of its speed to the raw loop's;
- per-stage time per frame (decode, inference, then on the tracked frames: features,
  classifiers, temporal engine, bus) and what classifiers + temporal + bus cost of a frame;
- the process's resident memory after each run and its peak;

then the end-to-end latency on a live MJPEG stream served from the clip at 25 fps (a frame's
arrival at the reader to its events reaching a sink: p50/p99, beside the frame's inference time),
and with ``--duration`` a memory soak (a looping source through the chain; RSS start/end).

Medians over ``--repeats`` interleaved runs (raw and gesturekit alternate, so machine noise hits
both alike). MediaPipe's native log lines are silenced (``GESTUREKIT_NATIVE_LOGS=1`` shows them).
``--quick`` (lite only, shorter clips, one repeat) finishes in about two minutes on two cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import socket
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import cv2
import numpy as np

REPO = Path(__file__).resolve().parent.parent
DATA = Path(os.environ.get("GESTUREKIT_DATA", REPO.parent / "shared" / "data"))

OUT = sys.stderr  # replaced by a copy of fd 2 once native logs are silenced


def say(msg: str) -> None:
    print(msg, file=OUT, flush=True)


def silence_native_logs() -> None:
    """Point fd 2 at /dev/null for the whole run; Python's stderr keeps a copy of the terminal."""
    global OUT
    if os.environ.get("GESTUREKIT_NATIVE_LOGS"):
        return
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    OUT = os.fdopen(os.dup(2), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    sys.stderr = OUT


def rss_mb() -> float:
    """Resident memory of this process now, MiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


# clips ------------------------------------------------------------------------------------------
def two_hand_clip(src: Path, out: Path, half_width: int, loops: int) -> Path:
    """``src`` beside its mirror (a right and a left hand), played forward and back ``loops`` times."""
    cap = cv2.VideoCapture(str(src))
    frames = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        h = round(img.shape[0] * half_width / img.shape[1])
        half = cv2.resize(img, (half_width, h), interpolation=cv2.INTER_AREA)
        frames.append(np.hstack([half, cv2.flip(half, 1)]))
    cap.release()
    seq = []
    for i in range(loops):
        seq.extend(frames if i % 2 == 0 else frames[::-1])
    w = cv2.VideoWriter(str(out), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (frames[0].shape[1], frames[0].shape[0]))
    for img in seq:
        w.write(img)
    w.release()
    return out


# measurements -----------------------------------------------------------------------------------
def raw_ms(clip: Path, model: str) -> float:
    """ms/frame of the loop people write by hand: cv2 decode -> RGB -> ``detect_for_video``, one
    thread, the graph's creation included (as in gesturekit's timed run)."""
    import mediapipe as mp
    from mediapipe.tasks.python import BaseOptions, vision

    from gesturekit.tracking import model_bundle

    start = time.perf_counter()
    opts = vision.HandLandmarkerOptions(base_options=BaseOptions(model_asset_buffer=model_bundle(model)),
                                        running_mode=vision.RunningMode.VIDEO, num_hands=2)
    landmarker = vision.HandLandmarker.create_from_options(opts)
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25
    n = 0
    while True:
        ok, img = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        landmarker.detect_for_video(mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb), int(n * 1000 / fps))
        n += 1
    elapsed = time.perf_counter() - start
    landmarker.close()
    cap.release()
    return elapsed / max(n, 1) * 1000


def chain_settings(clip: Path, model: str, workers: int | str, sink: Path) -> Any:
    from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
    from gesturekit.settings import Settings

    classifiers = {}
    if "asl" in collect_factories(get_plugin_manager(), "classifiers"):
        classifiers["asl"] = {"type": "asl"}
    return Settings.model_validate({
        "source": {"uri": str(clip)}, "tracker": {"model": model}, "parallel": {"workers": workers},
        "classifiers": classifiers, "sinks": {"out": {"type": "jsonl", "path": str(sink), "fsync_interval": 0}}})


def gesturekit_run(clip: Path, model: str, workers: int | str, tmp: Path) -> dict[str, Any]:
    """The whole chain over the file; ms/frame (graph creation included, as in ``gesturekit run``)."""
    from gesturekit.chain.builder import Chain

    sink = tmp / f"events-{model}-{workers}.jsonl"
    sink.unlink(missing_ok=True)
    settings = chain_settings(clip, model, workers, sink)
    n = events = 0
    start = time.perf_counter()
    with Chain(settings) as chain:
        for result in chain.run():
            n += 0 if result.tail else 1
            events += len(result.events)
        used = getattr(chain.reader, "workers", 1)
    elapsed = time.perf_counter() - start
    return {"ms_per_frame": elapsed / max(n, 1) * 1000, "frames": n, "events": events, "workers": used,
            "rss_mb": round(rss_mb(), 1)}


def stages(clip: Path, model: str, tmp: Path) -> dict[str, float]:
    """Per-frame medians (ms) of each stage, each measured on its own."""
    from dataclasses import replace

    from gesturekit.chain.builder import Chain
    from gesturekit.features import FeatureExtractor
    from gesturekit.tracking import Tracker, TrackerOptions

    cap = cv2.VideoCapture(str(clip))
    frames, decode, infer = [], [], []
    with Tracker(TrackerOptions(model=model, mode="video", mirrored=False)) as tr:
        while len(frames) < 400:
            t0 = time.perf_counter()
            ok, img = cap.read()
            t1 = time.perf_counter()
            if not ok:
                break
            f = tr.process(img, t=len(frames) / 25.0, index=len(frames), source=clip.name)
            t2 = time.perf_counter()
            decode.append(t1 - t0)
            infer.append(t2 - t1)
            frames.append(replace(f, image=None))  # hands only: the pixels are not needed after this
    cap.release()
    sink = tmp / f"stages-{model}.jsonl"
    sink.unlink(missing_ok=True)
    feat, clf, temporal, bus = [], [], [], []
    fx = FeatureExtractor()
    with Chain(chain_settings(clip, model, 1, sink)) as chain:
        chain.start()
        pipe = chain.pipeline
        for f in frames:
            t0 = time.perf_counter()
            fx.extract(f)
            t1 = time.perf_counter()
            dets = pipe.classify(f)
            t2 = time.perf_counter()
            evs = pipe.engine.update(f, dets) if pipe.engine is not None else []
            t3 = time.perf_counter()
            chain.emit(evs)
            chain.bus.publish_frame(f)
            t4 = time.perf_counter()
            feat.append(t1 - t0)
            clf.append(t2 - t1)
            temporal.append(t3 - t2)
            bus.append(t4 - t3)
    med = {k: statistics.median(v) * 1000 for k, v in
           {"decode": decode, "inference": infer, "features": feat, "classifiers": clf, "temporal": temporal,
            "bus": bus}.items()}
    mean = {k: statistics.fmean(v) * 1000 for k, v in {"classifiers": clf, "temporal": temporal, "bus": bus}.items()}
    med["overhead_ms_mean"] = sum(mean.values())
    return med


class MjpegServer:
    """Serves a clip's frames as an endless multipart JPEG stream at ``fps`` (an IP camera)."""

    def __init__(self, jpegs: list[bytes], fps: float = 25.0) -> None:
        self.stop = threading.Event()
        jp, stop = jpegs, self.stop

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                i, t0 = 0, time.monotonic()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    while not stop.is_set():
                        b = jp[i % len(jp)]
                        self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                         % len(b) + b + b"\r\n")
                        i += 1
                        time.sleep(max(0.0, t0 + i / fps - time.monotonic()))

            def log_message(self, *args: object) -> None:
                pass

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class _Timed:
    """A live source that notes when each frame arrived (perf_counter), by index."""

    def __init__(self, source: Any, arrivals: dict[int, float]) -> None:
        self.source, self.arrivals = source, arrivals
        self.name, self.live, self.mode = source.name, True, "video"

    def __iter__(self):  # noqa: ANN204
        for item in self.source:
            self.arrivals[item.index] = time.perf_counter()
            yield item

    def close(self) -> None:
        self.source.close()


class _LatencySink:
    """Notes when each event reaches the sink (the bus's sink thread)."""

    durable = True

    def __init__(self) -> None:
        self.got: list[tuple[int, float]] = []

    def send(self, event: Any) -> None:
        self.got.append((event.frame, time.perf_counter()))


def live_latency(clip: Path, model: str, frames: int, tmp: Path) -> dict[str, Any]:
    from gesturekit.chain.builder import Chain
    from gesturekit.settings import Settings

    cap = cv2.VideoCapture(str(clip))
    jpegs = []
    while True:
        ok, img = cap.read()
        if not ok:
            break
        jpegs.append(cv2.imencode(".jpg", img)[1].tobytes())
    cap.release()
    server = MjpegServer(jpegs)
    arrivals: dict[int, float] = {}
    done: dict[int, float] = {}
    infer: list[float] = []
    sink = _LatencySink()
    try:
        settings = Settings.model_validate({
            "source": {"uri": f"http://127.0.0.1:{server.port}/stream.mjpg", "max_frames": frames},
            "tracker": {"model": model, "mirrored": False},
            "sinks": {"out": {"type": "jsonl", "path": str(tmp / "live.jsonl"), "fsync_interval": 0}}})
        with Chain(settings) as chain:
            real_open = chain.open_source
            chain.open_source = lambda: _Timed(real_open(), arrivals)  # type: ignore[method-assign]
            chain.start()
            chain.bus.add_sink("latency", sink, durable=True)
            tracker = chain.pipeline.tracker
            real_process = tracker.process

            def timed_process(*a: Any, **k: Any) -> Any:
                t0 = time.perf_counter()
                out = real_process(*a, **k)
                infer.append(time.perf_counter() - t0)
                return out

            tracker.process = timed_process  # type: ignore[method-assign]
            for result in chain.run():
                if not result.tail:
                    done[result.frame.index] = time.perf_counter()
            dropped = chain.dropped
    finally:
        server.close()
    warm = 5  # the graph's first frames
    frame_lat = [(done[i] - arrivals[i]) * 1000 for i in done if i in arrivals and i >= warm]
    event_lat = [(t - arrivals[i]) * 1000 for i, t in sink.got if i in arrivals and i >= warm]
    inf = [x * 1000 for x in infer[warm:]]
    return {"frames": len(done), "dropped": dropped, "events": len(sink.got),
            "inference_p50_ms": pct(inf, 50), "frame_latency_p50_ms": pct(frame_lat, 50),
            "frame_latency_p99_ms": pct(frame_lat, 99), "event_latency_p50_ms": pct(event_lat, 50),
            "event_latency_p99_ms": pct(event_lat, 99)}


class _Looping:
    """A video file played again and again (for the memory soak), with continuous time."""

    live, mode = False, "video"

    def __init__(self, path: Path, seconds: float) -> None:
        self.path, self.seconds, self.name = path, seconds, path.name

    def __iter__(self):  # noqa: ANN204
        from gesturekit.sources import SourceItem
        from gesturekit.sources.video import VideoFileSource

        src, n, end = VideoFileSource(str(self.path)), 0, time.monotonic() + self.seconds
        while time.monotonic() < end:
            for item in src:
                yield SourceItem(n, n / src.fps, item.image)
                n += 1
                if time.monotonic() >= end:
                    return

    def close(self) -> None:
        pass


def memory_soak(clip: Path, model: str, seconds: float, tmp: Path) -> dict[str, Any]:
    from gesturekit.chain.builder import Chain
    from gesturekit.sources import ThreadedReader

    sink = tmp / "soak.jsonl"
    samples: list[tuple[float, float]] = []
    start = time.monotonic()
    with Chain(chain_settings(clip, model, 1, sink)) as chain:
        reader = ThreadedReader(_Looping(clip, seconds))
        n = 0
        for _ in chain.run(reader):
            n += 1
            if n % 50 == 0:
                samples.append((time.monotonic() - start, rss_mb()))
        reader.close()
    # start: after a tenth of the run (allocators and caches warm), end: the last sample
    first = next((s for s in samples if s[0] >= seconds * 0.1), samples[0] if samples else (0, 0))
    last = samples[-1] if samples else (0, 0)
    return {"seconds": round(time.monotonic() - start, 1), "frames": n, "rss_start_mb": round(first[1], 1),
            "rss_end_mb": round(last[1], 1), "growth_pct": round((last[1] / first[1] - 1) * 100, 2) if first[1] else 0}


# report -----------------------------------------------------------------------------------------
def table(rows: list[dict[str, Any]]) -> str:
    head = ("| model | clip | raw ms/f | gk 1w ms/f | x raw | gk Nw ms/f | workers | x raw | decode | infer | "
            "features | classify | temporal | bus | overhead % | RSS MB |")
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for r in rows:
        s = r["stages"]
        lines.append(
            f"| {r['model']} | {r['clip']} | {r['raw_ms']:.1f} | {r['seq']['ms_per_frame']:.1f} | "
            f"{r['seq_speed']:.2f} | {r['par']['ms_per_frame']:.1f} | {r['par']['workers']} | {r['par_speed']:.2f} | "
            f"{s['decode']:.2f} | {s['inference']:.1f} | {s['features']:.3f} | {s['classifiers']:.3f} | "
            f"{s['temporal']:.3f} | {s['bus']:.3f} | {r['overhead_pct']:.2f} | {r['par']['rss_mb']:.0f} |")
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="lite only, short clips, one repeat (~2 min)")
    ap.add_argument("--json", metavar="OUT", help="write every figure to this JSON file")
    ap.add_argument("--models", default=None, help="comma-separated (default: lite,full; --quick: lite)")
    ap.add_argument("--repeats", type=int, default=None, help="interleaved repeats (default 3, --quick 1)")
    ap.add_argument("--workers", default="auto", help="parallel.workers for the parallel run (default: auto)")
    ap.add_argument("--live-frames", type=int, default=None, help="frames of the live stream (default 250, quick 100)")
    ap.add_argument("--duration", type=float, default=0, metavar="SECONDS",
                    help="also run a memory soak this long (e.g. 600) over a looping source")
    ap.add_argument("--clip", default=str(DATA / "tracking" / "asl_hand.25fps.mp4"))
    args = ap.parse_args()
    clip = Path(args.clip)
    if not clip.exists():
        print(f"clip not found: {clip} (set GESTUREKIT_DATA)", file=sys.stderr)
        return 2
    silence_native_logs()
    models = (args.models or ("lite" if args.quick else "lite,full")).split(",")
    repeats = args.repeats or (1 if args.quick else 3)
    workers: int | str = int(args.workers) if args.workers.isdigit() else args.workers
    report: dict[str, Any] = {"machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                                          "platform": platform.platform(), "load": os.getloadavg()},
                              "quick": args.quick, "repeats": repeats, "rows": []}
    with tempfile.TemporaryDirectory(prefix="gk-bench-") as d:
        tmp = Path(d)
        say("building the two-hand clip ...")
        clips = {"one hand": clip,
                 "two hands": two_hand_clip(clip, tmp / "two_hands.mp4", 240 if args.quick else 480,
                                            1 if args.quick else 4)}
        for model in models:
            for name, path in clips.items():
                raw, seq, par = [], [], []
                for i in range(repeats):
                    raw.append(raw_ms(path, model))
                    seq.append(gesturekit_run(path, model, 1, tmp))
                    par.append(gesturekit_run(path, model, workers, tmp))
                    say(f"{model} / {name} run {i + 1}: raw {raw[-1]:.1f}, gesturekit 1 worker "
                        f"{seq[-1]['ms_per_frame']:.1f}, {par[-1]['workers']} workers {par[-1]['ms_per_frame']:.1f} "
                        "ms/frame")
                r = statistics.median(raw)
                s = sorted(seq, key=lambda x: x["ms_per_frame"])[len(seq) // 2]
                p = sorted(par, key=lambda x: x["ms_per_frame"])[len(par) // 2]
                st = stages(path, model, tmp)
                row = {"model": model, "clip": name, "frames": s["frames"], "raw_ms": r, "seq": s, "par": p,
                       "raw_fps": 1000 / r, "seq_fps": 1000 / s["ms_per_frame"], "par_fps": 1000 / p["ms_per_frame"],
                       "seq_speed": r / s["ms_per_frame"], "par_speed": r / p["ms_per_frame"], "stages": st,
                       "overhead_pct": st["overhead_ms_mean"] / s["ms_per_frame"] * 100,
                       "all_raw_ms": raw, "all_seq_ms": [x["ms_per_frame"] for x in seq],
                       "all_par_ms": [x["ms_per_frame"] for x in par]}
                report["rows"].append(row)
        say("live MJPEG stream ...")
        report["live"] = live_latency(clip, models[0], args.live_frames or (100 if args.quick else 250), tmp)
        if args.duration:
            say(f"memory soak, {args.duration:.0f} s ...")
            report["soak"] = memory_soak(clip, models[0], args.duration, tmp)
    report["peak_rss_mb"] = round(peak_mb(), 1)
    print(f"gesturekit benchmark: {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, repeats {repeats}"
          f"{' (quick)' if args.quick else ''}; speeds are raw ms/frame over gesturekit ms/frame (>1: faster)")
    print(table(report["rows"]))
    lv = report["live"]
    print(f"\nlive MJPEG ({models[0]}, {lv['frames']} frames, {lv['dropped']} dropped, {lv['events']} events): "
          f"inference p50 {lv['inference_p50_ms']:.1f} ms; frame arrival -> done p50 "
          f"{lv['frame_latency_p50_ms']:.1f} / "
          f"p99 {lv['frame_latency_p99_ms']:.1f} ms; arrival -> event at a sink p50 {lv['event_latency_p50_ms']:.1f} / "
          f"p99 {lv['event_latency_p99_ms']:.1f} ms")
    if "soak" in report:
        so = report["soak"]
        print(f"memory soak: {so['seconds']} s, {so['frames']} frames, RSS {so['rss_start_mb']} -> "
              f"{so['rss_end_mb']} MB "
              f"({so['growth_pct']:+.2f} %)")
    print(f"peak RSS {report['peak_rss_mb']} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2, default=float) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
