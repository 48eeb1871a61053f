"""Parallel tracking of video files (gesturekit.tracking.parallel): the whole chain with two
workers gives the sequential run's frames, track ids and events, on real footage with real
MediaPipe (one hand: the ASL clip; two hands: the clip beside its mirror)."""

from __future__ import annotations

import difflib
import json

import cv2
import numpy as np
import pytest
from shared_data import data_file

from gesturekit import InputError
from gesturekit.chain.builder import Chain
from gesturekit.settings import Settings
from gesturekit.sources import ThreadedReader
from gesturekit.tracking import TrackerOptions
from gesturekit.tracking.parallel import (
    ParallelVideoReader,
    default_warmup,
    plan_chunks,
    resolve_workers,
    same_output,
    stitch,
)
from gesturekit.values import Frame, Hand


def run_chain(clip, workers, tmp_path, model="lite", **extra):
    """Frames (hands only), events and the JSONL sink's lines of a whole ``run`` over ``clip``.
    ``workers=0``: the sequential reference, every frame tracked on the consumer's thread."""
    out = tmp_path / f"events-{workers}.jsonl"
    settings = Settings.model_validate({
        "source": {"uri": str(clip)}, "tracker": {"model": model},
        "parallel": {"workers": max(workers, 1), "images": True, **extra},
        "sinks": {"out": {"type": "jsonl", "path": str(out)}}})
    frames, events = [], []
    with Chain(settings) as chain:
        items = None if workers else ThreadedReader(chain.open_source())
        chain.start()
        pixels = chain.needs_images() if settings.parallel.images is None else settings.parallel.images
        for result in chain.run(items):
            if not result.tail:
                # pixels travel with every frame, or with none
                assert (result.frame.image is not None) == (pixels or not workers)
                frames.append(result.frame)
            events.extend(result.events)
        reader = chain.reader if workers else items
    return frames, events, out.read_text().splitlines(), reader


def assert_same_hands(seq, par, warmup):
    assert [f.index for f in par] == [f.index for f in seq]
    assert [f.t for f in par] == [f.t for f in seq]
    errors = []
    for a, b in zip(seq, par, strict=True):
        assert [h.track_id for h in b.hands] == [h.track_id for h in a.hands], f"frame {a.index}"
        assert [h.handedness for h in b.hands] == [h.handedness for h in a.hands], f"frame {a.index}"
        assert np.array_equal(b.image, a.image)
        for ha, hb in zip(a.hands, b.hands, strict=True):
            errors.append(np.linalg.norm(ha.keypoints - hb.keypoints, axis=1))
    errors = np.array(errors)
    assert len(errors) > 0
    # MediaPipe's tracking of a chunk starts from its own palm detection: after the warm-up the
    # keypoints agree within about a pixel (mean per hand), a few pixels at the worst keypoint.
    assert np.percentile(errors.mean(axis=1), 99) < 2.0
    assert errors.mean(axis=1).max() < 3.0
    return errors


def event_key(e):
    return (e.gesture, e.phase, e.frame, round(e.t, 6), tuple((h["id"], h["handedness"]) for h in e.hands))


def assert_similar_events(seq, par, boundary):
    """Before the first chunk boundary the events are the sequential ones; after it a keypoint a
    pixel off can move a start or end across a threshold by a frame (docs/tracker.md), so the
    rest must match closely, not exactly (``parallel.exact`` makes them equal)."""
    a, b = [event_key(e) for e in seq], [event_key(e) for e in par]
    assert [k for k in b if k[2] < boundary] == [k for k in a if k[2] < boundary]
    ratio = difflib.SequenceMatcher(None, [k[:2] + k[4:] for k in a], [k[:2] + k[4:] for k in b]).ratio()
    assert ratio > 0.8, (a, b)


@pytest.fixture(scope="module")
def two_hand_clip(tmp_path_factory):
    """The ASL clip beside its mirror image (two hands, a left and a right), played forward then
    backward so the motion never jumps: 480x418 per half, 650 frames."""
    src = cv2.VideoCapture(str(data_file("tracking/asl_hand.25fps.mp4")))
    frames = []
    while True:
        ok, img = src.read()
        if not ok:
            break
        half = cv2.resize(img, (240, 418), interpolation=cv2.INTER_AREA)
        frames.append(np.hstack([half, cv2.flip(half, 1)]))
    src.release()
    path = tmp_path_factory.mktemp("clips") / "two_hands.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (480, 418))
    for img in frames + frames[::-1]:
        out.write(img)
    out.release()
    return path


def test_two_workers_give_the_sequential_run_on_the_asl_clip(tmp_path):
    clip = data_file("tracking/asl_hand.25fps.mp4")
    seq, seq_events, seq_lines, seq_reader = run_chain(clip, 0, tmp_path)
    par, par_events, par_lines, reader = run_chain(clip, 2, tmp_path)
    assert not isinstance(seq_reader, ParallelVideoReader)
    one, one_events, one_lines, one_reader = run_chain(clip, 1, tmp_path)
    # one worker: tracked on a thread of its own, the sequential run bit for bit
    assert isinstance(one_reader, ParallelVideoReader) and one_reader.workers == 1
    assert [f.index for f in one] == [f.index for f in seq]
    assert all(np.array_equal(a.image, b.image) and same_output(a, b) and
               [h.track_id for h in a.hands] == [h.track_id for h in b.hands] for a, b in zip(seq, one, strict=True))
    assert [event_key(e) for e in one_events] == [event_key(e) for e in seq_events]
    assert isinstance(reader, ParallelVideoReader) and reader.workers == 2 and reader.fallbacks == 0
    assert len(seq) == 325
    assert_same_hands(seq, par, reader.warmup)
    assert {h.track_id for f in par for h in f.hands} == {1}  # one id across the chunk boundary
    assert len(seq_events) > 10
    assert_similar_events(seq_events, par_events, reader.chunks[1].start)
    assert len(par_lines) == len(par_events)  # every event reached the JSONL sink, in order
    assert [json.loads(x)["seq"] for x in par_lines] == sorted(json.loads(x)["seq"] for x in par_lines)


def test_exact_mode_is_the_sequential_run_bit_for_bit(tmp_path):
    """``parallel.exact`` hands a chunk over only at a frame both trackers give alike (here: the
    lite model loses the hand for a moment, and both start again from the same detection)."""
    clip = data_file("tracking/asl_hand.25fps.mp4")
    seq, seq_events, seq_lines, _ = run_chain(clip, 0, tmp_path)
    par, par_events, par_lines, reader = run_chain(clip, 2, tmp_path, exact=True)
    assert reader.approximate == 0
    for a, b in zip(seq, par, strict=True):
        assert a.hands == b.hands, f"frame {a.index}"
    assert [event_key(e) for e in par_events] == [event_key(e) for e in seq_events]
    assert [json.loads(x) for x in par_lines] == [json.loads(x) for x in seq_lines]


def test_two_workers_keep_two_hands_apart_across_chunks(two_hand_clip, tmp_path):
    seq, seq_events, _, _ = run_chain(two_hand_clip, 0, tmp_path)
    par, par_events, _, reader = run_chain(two_hand_clip, 2, tmp_path)
    assert isinstance(reader, ParallelVideoReader) and reader.workers == 2 and reader.fallbacks == 0
    assert sum(len(f.hands) == 2 for f in seq) > 0.9 * len(seq)
    assert_same_hands(seq, par, reader.warmup)
    assert_similar_events(seq_events, par_events, reader.chunks[1].start)


def test_an_inexact_seek_is_caught_and_tracked_without_a_seek(monkeypatch, tmp_path):
    """A decoder that lands one frame late fails the overlap check: the previous worker tracks the
    chunk itself, and the result is exactly the sequential one."""
    clip = data_file("tracking/asl_hand.25fps.mp4")
    real_open = ParallelVideoReader._open

    def late_open(self, start):
        return real_open(self, start + 1 if start > 0 else 0)

    seq, seq_events, _, _ = run_chain(clip, 0, tmp_path)
    monkeypatch.setattr(ParallelVideoReader, "_open", late_open)
    par, par_events, _, reader = run_chain(clip, 2, tmp_path)
    assert reader.fallbacks == 1
    for a, b in zip(seq, par, strict=True):
        assert a.hands == b.hands  # no seek, no warm-up: bit for bit
    assert [event_key(e) for e in par_events] == [event_key(e) for e in seq_events]


def test_max_frames_and_a_short_clip(tmp_path):
    clip = data_file("tracking/asl_hand.25fps.mp4")
    opts = TrackerOptions(model="lite", mode="video")
    reader = ParallelVideoReader(str(clip), opts, 2, max_frames=120)
    frames = [item.frame for item in reader]
    assert [f.index for f in frames] == list(range(120)) and reader.workers == 2
    # too short for two chunks: one worker, the sequential path
    assert ParallelVideoReader(str(clip), opts, 2, max_frames=40).workers == 1


def test_plan_chunks_and_workers():
    assert plan_chunks(325, 2, 15) == [(0, 162), (162, 325)]
    assert plan_chunks(100, 4, 15) == [(0, 100)]  # chunks are at least 4 warm-ups long
    assert plan_chunks(1300, 3, 15) == [(0, 433), (433, 867), (867, 1300)]
    assert resolve_workers("auto", live=True) == 1 and resolve_workers(3) == 3 and resolve_workers("auto") >= 1
    assert default_warmup(25.0, TrackerOptions()) == 15
    assert default_warmup(25.0, TrackerOptions(smoothing=True, smoothing_min_cutoff=0.5)) == 40
    with pytest.raises(InputError, match="parallel.workers"):
        from gesturekit.settings import with_overrides

        with_overrides(None, {"parallel": {"workers": 0}})


def _hand(tid, x, handedness="right"):
    kp = np.tile(np.array([[x, 100.0]]), (21, 1)) + np.arange(21)[:, None]
    return Hand(tid, handedness, 0.9, 0.9, kp, np.zeros((21, 3)))


def test_stitch_maps_ids_by_position_on_the_overlap():
    prev = [Frame(i, i / 25, 640, 480, "c", (_hand(3, 100), _hand(5, 400))) for i in range(10, 15)]
    warm = [Frame(i, i / 25, 640, 480, "c", (_hand(1, 401), _hand(2, 99))) for i in range(10, 15)]
    assert stitch(prev, warm) == {1: 5, 2: 3}
    far = [Frame(i, i / 25, 640, 480, "c", (_hand(1, 600),)) for i in range(10, 15)]
    assert stitch(prev, far) == {}  # nothing near: a new hand


def test_pixels_travel_only_when_something_uses_them(tmp_path):
    """Without an observer or a frame hook the chunks ahead are not decoded twice and frames carry
    no pixels, with the same hands; an observer (the annotated video) gets every frame's pixels."""
    clip = data_file("tracking/asl_hand.25fps.mp4")
    with_px, events, _, _ = run_chain(clip, 2, tmp_path)
    bare, bare_events, _, reader = run_chain(clip, 2, tmp_path, images=None)
    assert reader.workers == 2 and not reader.images
    assert all(f.image is None for f in bare)
    assert all(same_output(a, b) for a, b in zip(with_px, bare, strict=True))
    assert [event_key(e) for e in bare_events] == [event_key(e) for e in events]

    video = tmp_path / "annotated.mp4"
    settings = Settings.model_validate({
        "source": {"uri": str(clip)}, "tracker": {"model": "lite"}, "parallel": {"workers": 2},
        "observers": {"v": {"type": "annotate", "path": str(video)}}})
    with Chain(settings) as chain:
        n = sum(1 for r in chain.run() if not r.tail)
        assert chain.needs_images() and chain.reader.images and chain.reader.workers == 2
    cap = cv2.VideoCapture(str(video))
    written = 0
    while cap.read()[0]:
        written += 1
    cap.release()
    assert n == written == 325
