"""Batch extraction: landmarks of folders of videos and images into a dataset (:mod:`.dataset`).

One task per input file (an image: the hands in it; a video: the hands of every ``every``-th
frame, tracked in video mode with a fresh tracker), run on a local process pool or on a Ray
cluster. Results are written by the calling process in input order, each file's samples then its
``processed.jsonl`` line, so an interrupted run resumes where it stopped (files already done are
skipped) and 1 or N workers, local or Ray, give the same dataset. A file that cannot be read is
reported, recorded with its error and skipped; it never stops the run.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gesturekit._exceptions import InputError
from gesturekit.sources import IMAGE_EXTENSIONS as _SOURCE_IMAGE_EXTENSIONS

__all__ = ["IMAGE_EXTENSIONS", "VIDEO_EXTENSIONS", "ExtractResult", "find_inputs", "extract", "extract_file"]

log = logging.getLogger("gesturekit.learn")

IMAGE_EXTENSIONS = frozenset(_SOURCE_IMAGE_EXTENSIONS)  # what the image source reads
VIDEO_EXTENSIONS = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg"})

#: Trackers of this process (one per options), reused across the tasks a worker process runs.
_TRACKERS: dict[tuple, Any] = {}


@dataclass
class ExtractResult:
    """What :func:`extract` did."""

    files: int = 0      # input files found
    skipped: int = 0    # already in processed.jsonl (resumed)
    done: int = 0       # processed now
    failed: int = 0     # reported and skipped
    samples: int = 0    # samples written now


def find_inputs(inputs: Iterable[str | os.PathLike]) -> list[Path]:
    """Image and video files in ``inputs`` (files, or folders searched recursively), sorted per
    folder; a missing input raises :class:`~gesturekit.InputError`."""
    out: list[Path] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in
                              IMAGE_EXTENSIONS | VIDEO_EXTENSIONS))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"input not found: {p}")
    seen: set[Path] = set()
    return [p for p in out if not (p.resolve() in seen or seen.add(p.resolve()))]


def _label(path: Path, label_from: str) -> str:
    return path.parent.name if label_from == "folder" else ""


def _tracker(options: dict[str, Any]) -> Any:
    from gesturekit.tracking import Tracker, TrackerOptions

    key = tuple(sorted(options.items()))
    tr = _TRACKERS.get(key)
    if tr is None:
        tr = _TRACKERS[key] = Tracker(TrackerOptions(**options))
    return tr


def extract_file(path: str, label: str, model: str = "full", max_hands: int = 2, every: int = 1,
                 max_pixels: int | None = None) -> dict[str, Any]:
    """The samples of one file as JSON dicts: ``{"source", "samples": [...], "error": None}``;
    a file that cannot be read gives ``error`` (one line) and no samples, never an exception."""
    from gesturekit.learn.dataset import Sample

    try:
        ext = Path(path).suffix.lower()
        samples: list[dict[str, Any]] = []
        common = {"model": model, "max_hands": int(max_hands), "mirrored": False}
        if ext in IMAGE_EXTENSIONS:
            from gesturekit.sources import read_image

            img = read_image(path, max_pixels=max_pixels)
            frames = [_tracker({**common, "mode": "image"}).process(img, t=0.0, index=0)]
        else:
            from gesturekit.sources.video import VideoFileSource
            from gesturekit.tracking import Tracker, TrackerOptions

            src = VideoFileSource(path, max_pixels=max_pixels)
            frames = []
            # a fresh tracker per video: its result never depends on the files before it
            with Tracker(TrackerOptions(**common, mode="video")) as tr:
                for item in src:
                    f = tr.process(item.image, t=item.t, index=item.index)
                    if item.index % max(1, every) == 0:
                        frames.append(f)
        for f in frames:
            for h in f.hands:
                samples.append(Sample(label=label, keypoints=h.keypoints, keypoints3d=h.keypoints3d,
                                      handedness=h.handedness, source=path, frame=f.index, width=f.width,
                                      height=f.height, extra={"track_id": h.track_id,
                                                              "score": round(float(h.score), 4)}).to_dict())
        return {"source": path, "samples": samples, "error": None}
    except Exception as e:  # a bad file is reported, never fatal
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        return {"source": path, "samples": [], "error": msg[:300]}


def _local_runner(workers: int) -> Callable[[list[tuple]], Iterator[dict[str, Any]]]:
    def run(tasks: list[tuple]) -> Iterator[dict[str, Any]]:
        if workers <= 1:
            for t in tasks:
                yield extract_file(*t)
            return
        pending = list(tasks)
        strikes: dict[str, int] = {}
        while pending:
            # at most 2 tasks per worker in flight; results in input order
            inflight: list[tuple[tuple, Future]] = []
            try:
                # spawn, not fork: a forked copy of a process running MediaPipe threads can hang
                with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) \
                        as pool:
                    while pending or inflight:
                        while pending and len(inflight) < 2 * workers:
                            t = pending.pop(0)
                            inflight.append((t, pool.submit(extract_file, *t)))
                        t, fut = inflight[0]
                        res = fut.result()
                        inflight.pop(0)
                        yield res
            except BrokenProcessPool:
                # a worker process died (a crash in native code): retry what was in flight; a
                # file that breaks the pool twice is recorded as failed
                for t, _ in inflight:
                    strikes[t[0]] = strikes.get(t[0], 0) + 1
                retry = [t for t, _ in inflight if strikes[t[0]] < 2]
                for t, _ in inflight:
                    if strikes[t[0]] >= 2:
                        yield {"source": t[0], "samples": [], "error": "the worker process crashed on this file"}
                pending = retry + pending
    return run


def _ray_runner(workers: int, address: str | None) -> Callable[[list[tuple]], Iterator[dict[str, Any]]]:
    try:
        import ray
    except ImportError:
        raise InputError("the ray backend needs Ray: pip install 'gesturekit[ray]'") from None

    def run(tasks: list[tuple]) -> Iterator[dict[str, Any]]:
        started = False
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     **({} if address else {"num_cpus": workers}))
            started = True
        try:
            remote = ray.remote(num_cpus=1, max_retries=1)(extract_file)
            window = max(2, 2 * workers)
            queue: list[tuple[tuple, Any]] = []
            pending = list(tasks)
            while pending or queue:
                while pending and len(queue) < window:
                    t = pending.pop(0)
                    queue.append((t, remote.remote(*t)))
                t, ref = queue.pop(0)
                try:
                    yield ray.get(ref)
                except Exception as e:  # the task's process died
                    yield {"source": t[0], "samples": [], "error": f"ray task failed: {type(e).__name__}"}
        finally:
            if started:
                ray.shutdown()
    return run


def extract(inputs: Sequence[str | os.PathLike], out: str | os.PathLike, *, workers: int | None = None,
            backend: str = "local", label_from: str = "folder", model: str = "full", max_hands: int = 2,
            every: int = 1, ray_address: str | None = None, max_pixels: int | None = None,
            progress: bool = True) -> ExtractResult:
    """Extract the landmarks of every image and video in ``inputs`` into the dataset ``out``.

    :param workers: processes (local) or concurrent tasks (Ray); default: the CPU cores.
    :param backend: ``local`` (a process pool) or ``ray`` (``ray.init(address=ray_address)``; a
        local Ray when no address is given and none is running).
    :param label_from: ``folder`` (each file's parent folder is its label) or ``none``.
    :param every: keep every n-th frame of a video (all are tracked, so tracking stays the same).
    """
    from tqdm import tqdm

    from gesturekit.learn.dataset import DatasetWriter, Sample, processed_sources

    if backend not in ("local", "ray"):
        raise InputError(f"unknown backend {backend!r}: use 'local' or 'ray'")
    if label_from not in ("folder", "none"):
        raise InputError(f"unknown --label-from {label_from!r}: use 'folder' or 'none'")
    if workers is not None and workers < 1:
        raise InputError(f"workers must be 1 or more, got {workers}")
    from gesturekit.tracking.parallel import available_cores

    n = workers or available_cores()
    files = find_inputs(inputs)
    result = ExtractResult(files=len(files))
    done = processed_sources(out) if Path(out).exists() else set()
    todo = [p for p in files if str(p) not in done]
    result.skipped = len(files) - len(todo)
    tasks = [(str(p), _label(p, label_from), model, max_hands, every, max_pixels) for p in todo]
    runner = _ray_runner(n, ray_address) if backend == "ray" else _local_runner(n)
    with DatasetWriter(out, origin=f"gesturekit extract ({model})") as writer, \
            tqdm(total=len(tasks), unit="file", disable=not progress, file=sys.stderr) as bar:
        for res in runner(tasks):
            if res["error"]:
                result.failed += 1
                tqdm.write(f"gesturekit: skipped {res['source']}: {res['error']}", file=sys.stderr)
            for d in res["samples"]:
                writer.add(Sample.from_dict(d))
            result.samples += len(res["samples"])
            writer.mark_processed(res["source"], len(res["samples"]), res["error"])
            result.done += 1
            bar.update(1)
            bar.set_postfix(samples=result.samples, failed=result.failed)
    return result
