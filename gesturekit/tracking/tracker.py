"""The hand tracker: MediaPipe Tasks HandLandmarker -> :class:`~gesturekit.Frame`."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass

import cv2
import numpy as np

from gesturekit._exceptions import DeviceUnavailableError, ModelError
from gesturekit.tracking.dedupe import duplicates, inside, same_hand
from gesturekit.tracking.models import model_bundle
from gesturekit.tracking.options import TrackerOptions
from gesturekit.tracking.smoothing import OneEuroFilter
from gesturekit.tracking.tiles import confirm_box, tile_boxes
from gesturekit.tracking.tracks import TrackAssigner
from gesturekit.util.native import quiet_native_stderr
from gesturekit.values import Frame, Hand

__all__ = ["TrackerOptions", "Tracker", "MCP_KNUCKLES"]

#: Index, middle, ring and pinky MCP knuckles: their mean is the origin of ``keypoints3d``.
MCP_KNUCKLES = [5, 9, 13, 17]

# MediaPipe logs a lot to stderr through glog/absl; keep it to errors unless asked.
os.environ.setdefault("GLOG_minloglevel", "2")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class Tracker:
    """Finds up to ``max_hands`` hands per image and returns :class:`~gesturekit.Frame` values.

    Use as a context manager, or call :meth:`close`::

        with Tracker(TrackerOptions(model="lite")) as tracker:
            frame = tracker.process(image_bgr, t=0.0)
    """

    def __init__(self, options: TrackerOptions | None = None, **kwargs: object) -> None:
        self.options = (options or TrackerOptions.create(**kwargs)).resolved(live=False)
        self._landmarker = self._create()
        self._tiles = bool(self.options.tiles)
        self._tracks = TrackAssigner()
        self._filters: dict[int, OneEuroFilter] = {}
        self._last_ms = -1
        self._count = 0

    def _create(self):  # noqa: ANN202 - mediapipe type
        from mediapipe.tasks.python import BaseOptions, vision

        o = self.options
        delegate = BaseOptions.Delegate.GPU if o.device == "gpu" else BaseOptions.Delegate.CPU
        mode = vision.RunningMode.VIDEO if o.mode == "video" else vision.RunningMode.IMAGE
        opts = vision.HandLandmarkerOptions(
            base_options=BaseOptions(model_asset_buffer=model_bundle(o.model), delegate=delegate),
            running_mode=mode,
            num_hands=int(o.max_hands),
            min_hand_detection_confidence=o.min_detection_confidence,
            min_hand_presence_confidence=o.min_presence_confidence,
            min_tracking_confidence=o.min_tracking_confidence,
        )
        try:
            with quiet_native_stderr():
                return vision.HandLandmarker.create_from_options(opts)
        except Exception as e:  # mediapipe raises RuntimeError/ValueError with long messages
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            if o.device == "gpu":
                raise DeviceUnavailableError(
                    "the MediaPipe GPU delegate is not available on this machine (MediaPipe could not start "
                    "its GPU service: no usable OpenGL ES/EGL GPU context); use --device cpu"
                ) from e
            raise ModelError(f"could not create the hand landmarker from model {o.model!r}: {first[:200]}") from e

    def __enter__(self) -> Tracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release MediaPipe's graph."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None

    def reset(self) -> None:
        """Forget tracks and filters (e.g. when the source changes)."""
        self._tracks.reset()
        self._filters.clear()

    def process(self, image: np.ndarray, t: float | None = None, index: int | None = None,
                source: str = "") -> Frame:
        """Track hands in one BGR ``image`` taken at ``t`` seconds and return the Frame."""
        import mediapipe as mp

        if self._landmarker is None:
            raise RuntimeError("tracker is closed")
        if index is None:
            index = self._count
        if t is None:
            t = index / 30.0
        first = self._count == 0
        self._count = index + 1
        h, w = image.shape[:2]
        rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        mp_image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        # The graph logs its warnings on the first frame: silence that one.
        quiet = quiet_native_stderr() if first else contextlib.nullcontext()
        with quiet:
            found = self._parse(self._detect(mp_image, t), w, h)
            if self._tiles and len(found) < self.options.max_hands:
                found = found + self._look_closer(rgb, found)
        return Frame(index=index, t=float(t), width=w, height=h, source=source,
                     hands=self._hands(found, t, float(np.hypot(w, h))), image=image)

    def _look_closer(self, rgb: np.ndarray, found: _Detections) -> _Detections:
        """More hands for a still image, from overlapping tiles (see :mod:`gesturekit.tracking.tiles`):
        the tiles' hands that are no part of a hand ``found`` already and that a second, closer
        look confirms."""
        h, w = rgb.shape[:2]
        more = _Detections.empty()
        for box in tile_boxes(w, h):
            more = more + self._detect_in(rgb, box)
        if not len(more):
            return more
        more = more.without(inside(more.px, found.px) | duplicates(more.px, more.scores))
        confirmed = [i for i in range(len(more)) if self._confirmed(rgb, more.px[i])]
        return more.take(np.array(confirmed, dtype=np.int64))

    def _confirmed(self, rgb: np.ndarray, keypoints: np.ndarray) -> bool:
        """Whether the landmarker finds the hand at ``keypoints`` again in a crop around it."""
        again = self._detect_in(rgb, confirm_box(keypoints, rgb.shape[1], rgb.shape[0]))
        return bool(len(again)) and bool(same_hand(again.px, keypoints).any())

    def _detect_in(self, rgb: np.ndarray, box: tuple[int, int, int, int]) -> _Detections:
        """The hands the (image mode) landmarker finds in ``box`` of the image, in the image's pixels."""
        import mediapipe as mp

        x0, y0, x1, y1 = box
        crop = mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb[y0:y1, x0:x1]))
        return self._parse(self._landmarker.detect(crop), rgb.shape[1], rgb.shape[0], box)

    def _detect(self, mp_image, t: float):  # noqa: ANN001, ANN202
        if self.options.mode == "video":
            ms = max(int(round(t * 1000)), self._last_ms + 1)  # VIDEO mode needs increasing stamps
            self._last_ms = ms
            return self._landmarker.detect_for_video(mp_image, ms)
        return self._landmarker.detect(mp_image)

    def _parse(self, result, w: int, h: int, box: tuple[int, int, int, int] | None = None) -> _Detections:  # noqa: ANN001
        """MediaPipe's result as arrays, in the pixels of the full image (``box``: the tile the
        result was found in)."""
        n = len(result.hand_landmarks)
        if n == 0:
            return _Detections.empty()
        norm = np.array([[(p.x, p.y) for p in lms] for lms in result.hand_landmarks], dtype=np.float64)
        if box is None:
            px = norm * np.array([w, h], dtype=np.float64)
        else:
            x0, y0, x1, y1 = box
            px = norm * np.array([x1 - x0, y1 - y0], dtype=np.float64) + np.array([x0, y0], dtype=np.float64)
        world = np.array([[(p.x, p.y, p.z) for p in lms] for lms in result.hand_world_landmarks], dtype=np.float64)
        world -= world[:, MCP_KNUCKLES].mean(axis=1, keepdims=True)
        labels, scores = [], []
        for cats in result.handedness:
            mp_label = cats[0].category_name.lower()
            # The Tasks HandLandmarker of mediapipe 0.10.21 labels the hand as it appears in the
            # image it is given (its label agrees with the chirality of its own 3D landmarks, and
            # with the two left hands in tracking/hands.jpg); the legacy mp.solutions.hands API
            # assumes a mirrored image and says the opposite. So: as-is for unmirrored input,
            # swapped for a mirrored selfie view. See docs/tracker.md.
            labels.append(("left" if mp_label == "right" else "right") if self.options.mirrored else mp_label)
            scores.append(float(cats[0].score))
        return _Detections(px, world, labels, np.array(scores))

    def _hands(self, found: _Detections, t: float, diag: float) -> tuple[Hand, ...]:
        found = found.without(duplicates(found.px, found.scores))
        if len(found) > self.options.max_hands:  # tiles may add more than asked for: keep the best
            found = found.take(np.argsort(-found.scores, kind="stable")[: self.options.max_hands])
        n = len(found)
        video = self.options.mode == "video"
        if video:
            ids = self._tracks.assign(list(found.px), found.labels, t, diag, list(found.scores))
        elif n == 0:
            return ()
        else:
            ids = list(range(1, n + 1))
        hands = []
        for i in range(n):
            kp, kp3 = found.px[i], found.world[i]
            # The Tasks API reports no per-hand presence score; the handedness score stands in.
            label, label_score = self._tracks.handedness(ids[i]) if video else (found.labels[i], found.scores[i])
            if self.options.smoothing and video:
                f = self._filters.setdefault(
                    ids[i], OneEuroFilter(self.options.smoothing_min_cutoff, self.options.smoothing_beta))
                kp = f(kp, t)
            hands.append(Hand(ids[i], label, label_score, float(found.scores[i]), kp, kp3))
        if self._filters:
            live = set(ids)
            for k in [k for k in self._filters if k not in live]:
                del self._filters[k]
        return tuple(sorted(hands, key=lambda hand: hand.track_id))


@dataclass(frozen=True)
class _Detections:
    """The hands of one look at an image: pixels, world keypoints, labels and scores."""

    px: np.ndarray  # (N, 21, 2)
    world: np.ndarray  # (N, 21, 3)
    labels: list[str]
    scores: np.ndarray  # (N,)

    @classmethod
    def empty(cls) -> _Detections:
        return cls(np.zeros((0, 21, 2)), np.zeros((0, 21, 3)), [], np.zeros(0))

    def __len__(self) -> int:
        return len(self.labels)

    def take(self, idx: np.ndarray) -> _Detections:
        return _Detections(self.px[idx], self.world[idx], [self.labels[i] for i in idx.tolist()], self.scores[idx])

    def without(self, drop: np.ndarray) -> _Detections:
        return self if not drop.any() else self.take(np.flatnonzero(~drop))

    def __add__(self, other: _Detections) -> _Detections:
        if not len(other):
            return self
        return _Detections(np.concatenate([self.px, other.px]), np.concatenate([self.world, other.world]),
                           self.labels + other.labels, np.concatenate([self.scores, other.scores]))
