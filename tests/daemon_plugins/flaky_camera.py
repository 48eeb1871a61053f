"""A live source standing in for a camera that gets unplugged: it serves a landmark recording,
stops with a SourceError after ``frames`` frames, and fails to reopen ``failed_reopens`` times.
(No real camera can be attached here; the daemon sees the same SourceError a camera gives.)"""

import time

from gesturekit import SourceError, hookimpl
from gesturekit.sources import SourceItem
from gesturekit.sources.recording import ReplaySource

OPENS = {"n": 0}


class FlakyCamera:
    live = True
    mode = "video"
    name = "flaky-cam"

    def __init__(self, cfg):
        OPENS["n"] += 1
        if 2 <= OPENS["n"] <= 1 + int(cfg.get("failed_reopens", 2)):
            raise SourceError("flaky-cam could not be opened")
        self.frames = ReplaySource(cfg["recording"]).frames[: int(cfg.get("frames", 40))]
        self.fps = float(cfg.get("fps", 100))

    def __iter__(self):
        for i, fr in enumerate(self.frames):
            time.sleep(1 / self.fps)
            yield SourceItem(i, i / 25, None, frame=fr)
        raise SourceError("flaky-cam stopped delivering frames")

    def close(self):
        pass


@hookimpl
def gesturekit_register_sources():
    return {"flaky_camera": FlakyCamera}
