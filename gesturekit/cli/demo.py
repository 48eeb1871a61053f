"""``gesturekit demo``: see gestures become events, with a camera or without one.

With a camera (``--camera N``, or camera 0 when one opens) it runs live. Without one it runs the
real tracker (full model) on real footage, the bundled clip ``asl_hand.25fps.mp4`` (one hand
fingerspelling; ``--video FILE`` for another), prints the events as they happen, writes an
annotated copy (``--out``, default ``./gesturekit-demo.mp4``) and ends with a summary. When the
``asl`` classifier is installed it runs too (letters and the spelled word). ``--synthetic``
replays the bundled synthetic session (a computer-generated hand performing every library
gesture) through the real classifiers, the real temporal engine and the stdout sink instead.
``--json`` prints the canonical JSON events instead of the readable log.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from gesturekit._exceptions import SourceError
from gesturekit.chain.builder import Chain
from gesturekit.chain.plugin_manager import collect_factories, get_plugin_manager
from gesturekit.cli.common import (
    add_config_options,
    add_plugin_options,
    add_tracker_options,
    positive_int,
    settings_from_args,
)
from gesturekit.settings import Settings
from gesturekit.settings.model import SectionSettings
from gesturekit.sources.recording import ReplaySource
from gesturekit.sources.video import VideoFileSource
from gesturekit.values import GestureEvent

__all__ = ["add_parser", "run", "EventLog", "session_path", "footage_path", "camera_available", "DEFAULT_OUT"]

#: Where the footage demo writes its annotated video unless ``--out`` says otherwise.
DEFAULT_OUT = "gesturekit-demo.mp4"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="watch gestures become events (live camera, or real footage)",
                       description="Show gestures becoming events. With a camera: live. Without one: the real "
                                   "tracker on real footage (a bundled clip of one hand fingerspelling), with an "
                                   "annotated copy of the clip written to --out. --synthetic replays a "
                                   "computer-generated hand performing every library gesture instead.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, metavar="N", help="run live on camera N (default: camera 0 if one opens)")
    src.add_argument("--video", metavar="FILE", help="run on this video file instead of the bundled clip")
    src.add_argument("--synthetic", action="store_true", help="replay the bundled synthetic session (a "
                                                               "computer-generated hand) instead")
    src.add_argument("--session", metavar="FILE", help="replay this landmark recording (.jsonl) instead")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--out", metavar="FILE", help=f"the annotated video (default for footage: ./{DEFAULT_OUT}; "
                                                   "live: none)")
    out.add_argument("--no-video", action="store_true", help="write no annotated video")
    p.add_argument("--max-frames", type=positive_int, metavar="N", help="stop after N frames (footage, camera)")
    p.add_argument("--json", action="store_true", help="canonical JSON events on stdout (the stdout sink)")
    p.add_argument("--all", action="store_true", help="also list every hold and update event")
    p.add_argument("--realtime", action="store_true", help="replay at the session's own pace")
    add_config_options(p)
    add_tracker_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


def session_path() -> Path:
    """The bundled synthetic session inside the installed package."""
    from importlib import resources

    return Path(str(resources.files("gesturekit").joinpath("data/demo_session.jsonl")))


def footage_path() -> Path:
    """The bundled real clip (tfjs-models ``asl_hand.25fps.mp4``, Apache-2.0) inside the package."""
    from importlib import resources

    return Path(str(resources.files("gesturekit").joinpath("data/asl_hand.25fps.mp4")))


def camera_available(index: int = 0) -> bool:
    """True when camera ``index`` opens (checked without a long probe on Linux)."""
    if sys.platform.startswith("linux") and not os.path.exists(f"/dev/video{index}"):
        return False
    try:
        import cv2
    except ImportError:
        return False
    cap = cv2.VideoCapture(index)
    try:
        return bool(cap.isOpened())
    finally:
        cap.release()


def _read_header(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as f:
            first = json.loads(f.readline() or "{}")
    except (OSError, ValueError):
        return {}
    return first if isinstance(first, dict) and "index" not in first else {}


@dataclass
class _Open:
    t: float
    holds: int = 0
    updates: int = 0
    first: Mapping[str, float] = field(default_factory=dict)
    last: Mapping[str, float] = field(default_factory=dict)


class EventLog:
    """Readable, aligned event log: one line per start / end / pulse (``show_all``: every
    event), with the synthetic performer's script, when known, in its own column."""

    def __init__(self, out: TextIO, script: Iterable[Iterable[Any]] = (), show_all: bool = False,
                 color: bool | None = None) -> None:
        self.out = out
        self.script = [(float(a), float(b), str(label)) for a, b, label in script]
        self.show_all = show_all
        self.color = (out.isatty() and not os.environ.get("NO_COLOR")) if color is None else color
        self.open: dict[tuple[str, tuple[int, ...]], _Open] = {}
        self.counts: dict[str, dict[str, int]] = {}
        self._label_i = 0
        self.width = 14 if self.script else 0

    def _c(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def header(self) -> None:
        perf = f"{'performer':<{self.width}} | " if self.width else ""
        self.out.write(self._c(f"{'time':>7} | {perf}{'phase':<6} {'gesture':<12} {'hands':<18} details", "1") + "\n")

    def advance(self, t: float) -> None:
        """Print a row for each script segment (what the performer starts doing) up to ``t``."""
        while self._label_i < len(self.script) and self.script[self._label_i][0] <= t + 1e-9:
            start, _end, label = self.script[self._label_i]
            self._label_i += 1
            self.out.write(f"{start:6.2f}s | {self._c(f'{label[:self.width]:<{self.width}}', '36')} |\n")

    def event(self, ev: GestureEvent) -> None:
        """Record one event and print it when it is shown."""
        c = self.counts.setdefault(ev.gesture, {})
        c[ev.phase] = c.get(ev.phase, 0) + 1
        key = (ev.gesture, tuple(h["id"] for h in ev.hands))
        details = ""
        if ev.phase == "start":
            self.open[key] = _Open(ev.t, first=dict(ev.values), last=dict(ev.values))
            details = f"score {ev.score:.2f}" + _fmt_values(ev.values)
        elif ev.phase in ("hold", "update"):
            o = self.open.get(key)
            if o is not None:
                o.holds += ev.phase == "hold"
                o.updates += ev.phase == "update"
                o.last = dict(ev.values)
            if not self.show_all and not (ev.phase == "update" and ev.text):  # a new spelled word shows
                return
            details = f"{ev.t - o.t:.1f} s in" if o and ev.phase == "hold" else _fmt_values(ev.values).strip()
        elif ev.phase == "end":
            o = self.open.pop(key, None)
            if o is not None:
                details = f"held {ev.t - o.t:.2f} s, {_n(o.holds, 'hold')}"
                if o.updates:
                    details += f", {_n(o.updates, 'update')}"
                if o.first and o.last and o.first != o.last:
                    details += ", " + ", ".join(f"{k} {o.first[k]:.2f} -> {o.last[k]:.2f}"
                                                for k in o.last if k in o.first)
        elif ev.phase == "pulse":
            details = f"score {ev.score:.2f}" + _fmt_values(ev.values)
        if ev.text and ev.phase in ("start", "update", "pulse"):
            details = f'"{ev.text}"' + (f", {details}" if details else "")
        hands = " + ".join(f"{h['handedness']} #{h['id']}" for h in ev.hands) or "-"
        colour = {"start": "32", "end": "31", "pulse": "35"}.get(ev.phase, "2")
        perf = f"{'':<{self.width}} | " if self.width else ""
        self.out.write(f"{ev.t:6.2f}s | {perf}{self._c(f'{ev.phase:<6}', colour)} "
                       f"{self._c(f'{ev.gesture:<12}', '1')} {hands:<18} {details}".rstrip() + "\n")

    def flush(self) -> None:
        """Print the rest of the script and flush."""
        self.advance(float("inf"))
        self.out.flush()


def _performer_rows(script: Iterable[Iterable[Any]]) -> list[tuple[float, float, str]]:
    """The script rows worth showing: a gesture from the moment the performer starts forming it
    (``-> NAME`` then ``NAME`` become one row)."""
    rows: list[tuple[float, float, str]] = []
    for a, b, label in script:
        label = str(label)
        name = label[3:] if label.startswith("-> ") else label
        if not _shown(name):
            continue
        if rows and rows[-1][2] == name and abs(rows[-1][1] - float(a)) < 1e-6:
            rows[-1] = (rows[-1][0], float(b), name)
        else:
            rows.append((float(a), float(b), name))
    return rows


def _shown(label: str) -> bool:
    """Script labels worth a row: what the performer shows, not how it gets there."""
    return bool(label) and label not in ("relaxed", "neutral") \
        and not label.startswith(("-> ", "no hands", "to ", "before ", "after ")) \
        and not label.endswith((" ready", " done"))


def _n(k: int, word: str) -> str:
    return f"{k} {word}{'' if k == 1 else 's'}"


def _fmt_values(values: Mapping[str, float]) -> str:
    return "".join(f", {k} {v:.3g}" for k, v in values.items())


def run(args: argparse.Namespace) -> int:
    """Run the demo: live when a camera is asked for (or camera 0 opens), the synthetic or a
    recorded session when asked for, else the real footage."""
    if args.synthetic or args.session:
        return _replay(args)
    if args.camera is not None or (args.video is None and camera_available(0)):
        return _live(args)
    return _footage(args)


def _live(args: argparse.Namespace) -> int:
    index = 0 if args.camera is None else args.camera
    if not camera_available(index):
        raise SourceError(f"camera {index} cannot be opened; run `gesturekit demo` without --camera "
                          "for the bundled real footage (or --synthetic)")
    settings = settings_from_args(args, source={"uri": str(index), "max_frames": args.max_frames})
    if not args.json:
        sys.stdout.write(f"gesturekit demo: live from camera {index} (mirrored selfie view). Ctrl-C to stop.\n\n")
    return _run_chain(args, settings, [], live=True, video=None if args.no_video else args.out)


def _footage(args: argparse.Namespace) -> int:
    path = Path(args.video) if args.video else footage_path()
    if not path.exists():
        raise SourceError(f"demo footage not found: {path}" + ("" if args.video else " (reinstall gesturekit)"))
    settings = settings_from_args(args, source={"uri": str(path), "max_frames": args.max_frames})
    out = None if args.no_video else (args.out or DEFAULT_OUT)
    pm = get_plugin_manager(settings.plugin_paths)
    asl = "asl" in collect_factories(pm, "classifiers")
    if asl and not any((sec.type or name) == "asl" for name, sec in settings.classifiers.items()):
        settings.classifiers["asl"] = SectionSettings(type="asl")  # the fingerspelling classifier runs too
    if not args.json:
        src = VideoFileSource(str(path))
        what = "bundled real footage" if not args.video else "a video"
        classifiers = "gesture classifiers (with the ASL fingerspelling classifier)" if asl else "gesture classifiers"
        sys.stdout.write(f"gesturekit demo - {what}: {path.name} ({src.width}x{src.height}, {src.frame_count} "
                         f"frames, {src.fps:g} fps).\n"
                         f"The real tracker ({settings.tracker.model} model), {classifiers} and temporal engine; "
                         f"events as they happen.\n"
                         f"Live camera: gesturekit demo --camera 0   Synthetic hand: gesturekit demo --synthetic\n\n")
    frames = VideoFileSource(str(path)).frame_count
    if args.max_frames:
        frames = min(frames, args.max_frames)
    return _run_chain(args, settings, [], live=False, video=out, pm=pm, total=frames)


def _replay(args: argparse.Namespace) -> int:
    path = Path(args.session) if args.session else session_path()
    if not path.exists():
        raise SourceError(f"demo session not found: {path} (reinstall gesturekit, or regenerate it with "
                          "`cd tests && python -m synthetic.demo_session`)")
    settings = settings_from_args(args, source={"uri": str(path), "realtime": bool(args.realtime)})
    head = _read_header(path)
    script = _performer_rows(head.get("script", ()))
    synthetic = bool(head.get("synthetic")) or not args.session
    if not args.json:
        frames = ReplaySource(str(path)).frames
        span = frames[-1].t - frames[0].t if frames else 0.0
        kind = "SYNTHETIC input: a computer-generated hand, not a camera" if synthetic else "a landmark recording"
        sys.stdout.write(f"gesturekit demo - {kind}.\n"
                         f"Replaying {path.name} ({len(frames)} frames, {span:.1f} s) through the real gesture "
                         f"classifiers and temporal engine.\n"
                         f"Real footage: gesturekit demo   Live camera: gesturekit demo --camera 0   "
                         f"Raw events: gesturekit demo --synthetic --json\n\n")
    elif synthetic:
        print("gesturekit demo: the input is SYNTHETIC (a computer-generated hand, no camera)", file=sys.stderr)
    return _run_chain(args, settings, script, live=False, video=None if args.no_video else args.out)


def _progress(total: int | None) -> Any:
    """A progress bar on stderr for a run of known length, when both outputs are a terminal."""
    if not total or not (sys.stderr.isatty() and sys.stdout.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="frame", file=sys.stderr, leave=False, dynamic_ncols=True)


class _BarWriter:
    """The event log's output while a progress bar is shown: each line goes above the bar."""

    def __init__(self, out: TextIO, bar: Any) -> None:
        self.out, self.bar, self._part = out, bar, ""

    def isatty(self) -> bool:
        return self.out.isatty()

    def write(self, text: str) -> int:
        *lines, self._part = (self._part + text).split("\n")
        for line in lines:
            self.bar.write(line, file=self.out)
        return len(text)

    def flush(self) -> None:
        self.out.flush()


def _run_chain(args: argparse.Namespace, settings: Settings, script: list, *, live: bool, video: str | None,
               pm: Any = None, total: int | None = None) -> int:
    """The chain, with the event log (or the stdout sink with ``--json``) and the annotated video."""
    out = sys.stdout
    if video:
        settings.observers["demo_video"] = SectionSettings(type="annotate", path=video, title="gesturekit demo")
    if not args.json:
        settings.sinks.clear()  # the event log below is the output
    chain = Chain(settings, pm=pm, default_sink="stdout" if args.json else None)
    if not chain.parts.classifiers and not args.json:
        out.write("note: no gesture classifiers are configured, so no events will appear.\n")
    bar = _progress(total) if not args.json else None
    log = EventLog(_BarWriter(out, bar) if bar is not None else out, script, show_all=args.all)
    if not args.json:
        log.header()
    stats = _Stats()
    t0 = time.perf_counter()
    with chain:
        for result in chain.run():
            stats.add(result)
            if bar is not None and not result.tail:
                bar.update(1)
            if not args.json:
                log.advance(result.frame.t)
                for ev in result.events:
                    log.event(ev)
                if result.events:
                    out.flush()  # as they happen, also into a pipe
        observer = chain.parts.observers.get("demo_video")
    if bar is not None:
        bar.close()
    elapsed = time.perf_counter() - t0
    summary = stats.summary(elapsed)
    if observer is not None:
        summary["video"] = {"path": os.path.abspath(video or ""), "frames": observer.frames,
                            "fps": observer.video.fps}
    if args.json:
        print("gesturekit demo: " + json.dumps(summary, separators=(",", ":")), file=sys.stderr)
        return 0
    log.flush()
    _summary(out, log, script, summary, live)
    return 0


class _Stats:
    """What the summary counts: frames, frames with a hand, tracks, gestures, spelled words."""

    def __init__(self) -> None:
        self.frames = 0
        self.with_hand = 0
        self.tracks: set[int] = set()
        self.gestures: dict[str, int] = {}
        self.letters: list[str] = []
        self.words: list[str] = []

    def add(self, result: Any) -> None:
        if not result.tail:
            self.frames += 1
            self.with_hand += bool(result.frame.hands)
            self.tracks.update(h.track_id for h in result.frame.hands)
        for ev in result.events:
            if ev.phase in ("start", "pulse"):
                self.gestures[ev.gesture] = self.gestures.get(ev.gesture, 0) + 1
            if ev.text and ev.phase in ("start", "update", "pulse"):
                seq = self.words if ev.gesture.endswith("word") else self.letters
                if not seq or seq[-1] != ev.text or ev.phase != "update":
                    seq.append(ev.text)

    def summary(self, elapsed: float) -> dict[str, Any]:
        return {"frames": self.frames, "frames_with_hand": self.with_hand, "tracks": len(self.tracks),
                "gestures": dict(sorted(self.gestures.items())), "letters": self.letters, "words": self.words,
                "seconds": round(elapsed, 3), "fps": round(self.frames / max(elapsed, 1e-9), 2)}


def _summary(out: TextIO, log: EventLog, script: list, summary: Mapping[str, Any], live: bool) -> None:
    seen = sorted(log.counts)
    frames, elapsed = summary["frames"], summary["seconds"]
    out.write(f"\n{frames} frames in {elapsed:.2f} s ({summary['fps']:.0f} frames/s). ")
    if live or not script:
        out.write(f"Hands found in {summary['frames_with_hand']}/{frames} frames ({summary['tracks']} "
                  f"track{'' if summary['tracks'] == 1 else 's'}).\n")
        counts = summary["gestures"]
        out.write(f"Gestures seen: {', '.join(f'{g} x{n}' for g, n in counts.items()) or 'none'}.\n")
        if summary["letters"]:
            out.write(f"ASL letters: {' '.join(summary['letters'])}\n")
        if summary["words"]:
            out.write(f"Spelled: {' -> '.join(summary['words'])}\n")
        if "video" in summary:
            v = summary["video"]
            out.write(f"Annotated video: {v['path']} ({v['frames']} frames, {v['fps']:g} fps)\n")
        return
    performed = list(dict.fromkeys(s[2] for s in script if s[2] not in ("relaxed", "neutral")))
    got = [g for g in performed if g in log.counts]
    out.write(f"The synthetic performer showed {len(performed)} gestures; {len(got)} were recognised.\n")
    missing = [g for g in performed if g not in log.counts]
    if missing:
        out.write(f"Not recognised: {', '.join(missing)}\n")
    extra = [g for g in seen if g not in performed]
    if extra:
        out.write(f"Also reported: {', '.join(extra)}\n")
    if "video" in summary:
        v = summary["video"]
        out.write(f"Annotated video: {v['path']} ({v['frames']} frames, {v['fps']:g} fps)\n")
