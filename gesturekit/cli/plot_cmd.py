"""``gesturekit plot SESSION.jsonl --out PNG``: a landmark recording as a picture.

Top: the x and y pixel coordinates over time of the wrist and the five fingertips of every
track. Bottom: a gesture timeline, one row per gesture, a bar from each ``start`` to its ``end``
and a tick for each ``pulse``. The events come from ``--events FILE`` (the JSON lines of
``gesturekit run``) when given, else from running the classifiers and the temporal engine over
the replayed recording through the chain (the same events ``run --source SESSION.jsonl`` prints).
Drawn with matplotlib's Agg backend (no display needed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from gesturekit._exceptions import InputError, SourceError
from gesturekit.chain.builder import Chain
from gesturekit.cli.common import add_config_options, add_plugin_options, settings_from_args
from gesturekit.sources.recording import ReplaySource
from gesturekit.values import KEYPOINT_NAMES, Frame, GestureEvent

__all__ = ["add_parser", "run", "Interval", "gesture_timeline", "trajectories", "plot_session", "DEFAULT_KEYPOINTS"]

#: The keypoints plotted unless ``--keypoints`` names others.
DEFAULT_KEYPOINTS = ("wrist", "thumb_tip", "index_finger_tip", "middle_finger_tip", "ring_finger_tip",
                     "pinky_finger_tip")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plot", help="plot a landmark recording: keypoint trajectories and a gesture timeline",
                       description="Draw a landmark recording (run --record-landmarks) as a PNG: the x/y "
                                   "trajectories of the wrist and fingertips per track, and a timeline of the "
                                   "gestures (from --events, else by running the classifiers over the replay).")
    p.add_argument("session", metavar="SESSION.jsonl", help="a landmark recording (run --record-landmarks FILE)")
    p.add_argument("--out", "-o", metavar="PNG", required=True, help="the PNG to write")
    p.add_argument("--events", metavar="FILE", help="the recording's events (JSON lines, as `gesturekit run` prints "
                                                    "them); default: classify the replay")
    p.add_argument("--keypoints", metavar="NAMES", help="comma-separated keypoint names or indices (default: wrist "
                                                        "and the five fingertips)")
    p.add_argument("--size", metavar="WxH", default="1400x900", help="image size in pixels (default 1400x900)")
    p.add_argument("--title", help="the figure's title (default: the file's name)")
    p.add_argument("--json", action="store_true", help="print the timeline as one JSON object on stdout")
    add_config_options(p)
    add_plugin_options(p)
    p.set_defaults(func=run)


@dataclass(frozen=True)
class Interval:
    """One gesture on the timeline: ``start``..``end`` seconds (a pulse: ``start == end``)."""

    gesture: str
    hands: tuple[int, ...]
    start: float
    end: float
    pulse: bool = False


def gesture_timeline(events: Iterable[GestureEvent], t_end: float | None = None) -> list[Interval]:
    """Intervals from events: each ``start`` with its ``end`` (an unended one runs to ``t_end``,
    else to its last event), and each ``pulse``; ordered by start time."""
    out: list[Interval] = []
    open_: dict[tuple[str, tuple[int, ...]], tuple[float, float]] = {}
    for ev in events:
        key = (ev.gesture, tuple(int(h["id"]) for h in ev.hands))
        if ev.phase == "pulse":
            out.append(Interval(ev.gesture, key[1], ev.t, ev.t, True))
        elif ev.phase == "start":
            open_[key] = (ev.t, ev.t)
        elif ev.phase == "end":
            if key in open_:
                out.append(Interval(ev.gesture, key[1], open_.pop(key)[0], ev.t))
        elif key in open_:
            open_[key] = (open_[key][0], ev.t)
    for (g, hands), (a, last) in open_.items():
        out.append(Interval(g, hands, a, t_end if t_end is not None else last))
    return sorted(out, key=lambda i: (i.start, i.gesture))


def trajectories(frames: Sequence[Frame], keypoints: Sequence[int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Per track id: ``(t, xy)`` with ``t`` of shape (n,) and ``xy`` (n, len(keypoints), 2) pixels."""
    rows: dict[int, tuple[list[float], list[np.ndarray]]] = {}
    idx = np.asarray(keypoints, dtype=int)
    for fr in frames:
        for h in fr.hands:
            ts, xs = rows.setdefault(h.track_id, ([], []))
            ts.append(fr.t)
            xs.append(h.keypoints[idx])
    return {tid: (np.asarray(ts), np.stack(xs)) for tid, (ts, xs) in sorted(rows.items())}


def _keypoint_indices(text: str | None) -> list[int]:
    if not text:
        return [KEYPOINT_NAMES.index(n) for n in DEFAULT_KEYPOINTS]
    out = []
    for part in (p.strip() for p in text.split(",")):
        if part.isdigit() and int(part) < len(KEYPOINT_NAMES):
            out.append(int(part))
        elif part.lower() in KEYPOINT_NAMES:
            out.append(KEYPOINT_NAMES.index(part.lower()))
        else:
            raise InputError(f"unknown keypoint {part!r} in --keypoints; use 0..20 or names such as wrist, "
                             "index_finger_tip")
    return out


def _size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit() or not (200 <= int(w) <= 8000 and 150 <= int(h) <= 8000):
        raise InputError(f"--size must be WIDTHxHEIGHT in pixels (200x150 to 8000x8000), got {text!r}")
    return int(w), int(h)


def read_events(path: str) -> list[GestureEvent]:
    """GestureEvents from a JSON-lines file (lines that are not events are an error)."""
    if not os.path.exists(path):
        raise SourceError(f"file not found: {path}")
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                out.append(GestureEvent.from_dict(json.loads(line)))
            except (ValueError, KeyError, TypeError) as e:
                raise SourceError(f"{path}:{n}: not a GestureEvent line ({e})") from None
    return out


def classify_replay(args: argparse.Namespace, path: str) -> list[GestureEvent]:
    """The events of the recording: its replay through the chain (classifiers, temporal engine)."""
    settings = settings_from_args(args, source={"uri": path})
    settings.sinks.clear()
    events: list[GestureEvent] = []
    with Chain(settings) as chain:
        for result in chain.run():
            events.extend(result.events)
    return events


def plot_session(frames: Sequence[Frame], timeline: Sequence[Interval], out: str, *, keypoints: Sequence[int],
                 size: tuple[int, int] = (1400, 900), title: str = "") -> None:
    """Write the PNG: x(t) and y(t) per keypoint and track, and the gesture timeline."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    dpi = 100
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi)
    gestures = list(dict.fromkeys(i.gesture for i in timeline))
    rows = max(len(gestures), 1)
    grid = fig.add_gridspec(3, 1, height_ratios=[3, 3, max(1.2, 0.45 * rows)], hspace=0.35)
    ax_x, ax_y, ax_t = (fig.add_subplot(grid[k]) for k in range(3))
    ax_y.sharex(ax_x)
    ax_t.sharex(ax_x)
    tracks = trajectories(frames, keypoints)
    cmap = matplotlib.colormaps["tab10"]  # keypoints
    bars = matplotlib.colormaps["Dark2"]  # gestures: other colours than the keypoints'
    styles = ["-", "--", ":", "-."]
    t0 = frames[0].t if frames else 0.0
    t1 = frames[-1].t if frames else 1.0
    for k, (tid, (ts, xy)) in enumerate(tracks.items()):
        for j, kp in enumerate(keypoints):
            label = f"#{tid} {KEYPOINT_NAMES[kp]}"
            for ax, c in ((ax_x, 0), (ax_y, 1)):
                ax.plot(ts, xy[:, j, c], styles[k % len(styles)], color=cmap(j % 10), lw=1.2, label=label)
    ax_x.set_ylabel("x (px)")
    ax_y.set_ylabel("y (px, down)")
    if frames:
        ax_y.set_ylim(frames[0].height, 0)
        ax_x.set_ylim(0, frames[0].width)
    ax_x.set_title(title or "keypoint trajectories", fontsize=11)
    if tracks:
        ax_x.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    for ax in (ax_x, ax_y):
        ax.grid(alpha=0.3)
    for i in timeline:
        y = gestures.index(i.gesture)
        colour = bars(y % 8)
        if i.pulse:
            ax_t.plot([i.start], [y], marker="|", ms=16, mew=3, color=colour)
        else:
            ax_t.broken_barh([(i.start, max(i.end - i.start, 1e-3))], (y - 0.35, 0.7), color=colour)
    ax_t.set_yticks(range(len(gestures)), gestures, fontsize=9)
    ax_t.set_ylim(rows - 0.5, -0.5)
    ax_t.set_xlabel("t (s)")
    ax_t.set_title("gestures" if gestures else "gestures (none)", fontsize=10)
    ax_t.grid(axis="x", alpha=0.3)
    ax_x.set_xlim(t0, max(t1, t0 + 1e-3))
    fig.subplots_adjust(left=0.12, right=0.82, top=0.95, bottom=0.07)
    try:
        fig.savefig(out, dpi=dpi, format="png")
    except OSError as e:
        raise InputError(f"cannot write {out}: {e.strerror or e}") from None


def run(args: argparse.Namespace) -> int:
    size = _size(args.size)
    keypoints = _keypoint_indices(args.keypoints)
    if not args.out.lower().endswith(".png"):
        raise InputError(f"--out must name a .png file, got {args.out!r}")
    parent = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(parent):
        raise InputError(f"cannot write {args.out}: folder {parent} does not exist")
    if not args.session.endswith(".jsonl"):
        raise InputError(f"{args.session}: expected a landmark recording (.jsonl, from run --record-landmarks)")
    frames = ReplaySource(args.session).frames
    if not frames:
        raise SourceError(f"{args.session}: the recording has no frames")
    events = read_events(args.events) if args.events else classify_replay(args, args.session)
    timeline = gesture_timeline(events, t_end=frames[-1].t)
    plot_session(frames, timeline, args.out, keypoints=keypoints, size=size,
                 title=args.title or os.path.basename(args.session))
    summary: dict[str, Any] = {
        "out": args.out, "width": size[0], "height": size[1], "frames": len(frames),
        "tracks": sorted({h.track_id for f in frames for h in f.hands}),
        "keypoints": [KEYPOINT_NAMES[k] for k in keypoints],
        "events": "file" if args.events else "classified",
        "timeline": [{**asdict(i), "hands": list(i.hands)} for i in timeline]}
    if args.json:
        print(json.dumps(summary))
    else:
        counts: dict[str, int] = {}
        for i in timeline:
            counts[i.gesture] = counts.get(i.gesture, 0) + 1
        print(f"wrote {args.out} ({size[0]}x{size[1]}): {len(frames)} frames, {len(summary['tracks'])} track"
              f"{'' if len(summary['tracks']) == 1 else 's'}; "
              f"gestures: {', '.join(f'{g} x{n}' for g, n in counts.items()) or 'none'}", file=sys.stderr)
    return 0
