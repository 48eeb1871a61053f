"""Sources and the threaded reader: files never drop, live sources hand over the newest frame."""

from __future__ import annotations

import time
from collections.abc import Iterator

import numpy as np
import pytest

from gesturekit import SourceError
from gesturekit.sources import ImageSource, SourceItem, ThreadedReader, VideoFileSource, open_source


class _FastLiveSource:
    """A live source producing numbered frames as fast as it can (like a camera that never waits)."""

    name, live, mode = "fast", True, "video"

    def __init__(self, n: int, fail_at: int | None = None) -> None:
        self.n, self.fail_at, self.produced, self.closed = n, fail_at, 0, False

    def __iter__(self) -> Iterator[SourceItem]:
        for i in range(self.n):
            if self.closed:
                return
            if i == self.fail_at:
                raise SourceError("camera:fast stopped delivering frames")
            self.produced = i + 1
            yield SourceItem(i, i / 1000, np.zeros((2, 2, 3), np.uint8))
            time.sleep(0.0005)

    def close(self) -> None:
        self.closed = True


def test_a_file_source_never_drops_a_frame(data):
    src = VideoFileSource(str(data("tracking/asl_hand.25fps.mp4")))
    reader = ThreadedReader(src, maxsize=2)
    indices = []
    for item in reader:
        indices.append(item.index)
        time.sleep(0.001)  # a consumer slower than the decoder
    reader.close()
    assert indices == list(range(325))
    assert reader.dropped == 0


def test_a_live_source_hands_over_the_newest_frame_and_counts_drops():
    src = _FastLiveSource(400)
    reader = ThreadedReader(src)
    got = []
    for item in reader:
        got.append(item.index)
        time.sleep(0.01)  # a slow tracker
    reader.close()
    assert got == sorted(got)
    assert got[-1] == 399  # the last frame produced is the last one handed over
    assert len(got) < 200
    assert reader.dropped == 400 - len(got)


def test_a_source_error_reaches_the_consumer():
    reader = ThreadedReader(_FastLiveSource(100, fail_at=30))
    with pytest.raises(SourceError, match="stopped delivering"):
        for _ in reader:
            pass
    reader.close()


def test_close_stops_the_reader_promptly():
    src = _FastLiveSource(10**9)
    reader = ThreadedReader(src)
    next(iter(reader))
    start = time.monotonic()
    reader.close()
    assert time.monotonic() - start < 2
    assert src.closed and not reader._thread.is_alive()


def test_open_source_picks_the_kind(data, tmp_path):
    assert isinstance(open_source(str(data("tracking/hands.jpg"))), ImageSource)
    assert isinstance(open_source(str(data("tracking/asl_hand.25fps.mp4"))), VideoFileSource)
    images = open_source(str(data("gestures/hagrid_chart")))
    assert isinstance(images, ImageSource) and len(images.files) == 33 and images.mode == "image"
    glob = open_source(str(data("gestures/hagrid_chart")) + "/0*_*.png")
    assert [f.rsplit("/", 1)[-1][:2] for f in glob.files] == [f"{i:02d}" for i in range(10)]
    with pytest.raises(SourceError, match="no files match"):
        open_source(str(tmp_path / "*.png"))
