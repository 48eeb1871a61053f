"""A sample third-party gesturekit plugin.

It reports two gestures from the keypoints of each Frame, counts the gestures that all
classifiers report, and offers a sink that writes GestureEvents to a CSV file:

- ``hand_up``: one hand points up (wrist below the middle knuckle, within ``max_angle``
  degrees of vertical). ``values["angle"]`` is the angle from vertical in degrees.
- ``two_hands``: two hands are in view. ``values["distance"]`` is the distance between the
  palm centres as a fraction of the image width.

It uses only gesturekit's public API.
"""

from __future__ import annotations

import csv
import logging
from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from gesturekit import ConfigError, Detection, Frame, GestureEvent, Hand, HandLandmark, hookimpl

log = logging.getLogger("gesturekit_example")

PALM = [HandLandmark.WRIST, HandLandmark.INDEX_FINGER_MCP, HandLandmark.MIDDLE_FINGER_MCP,
        HandLandmark.RING_FINGER_MCP, HandLandmark.PINKY_FINGER_MCP]

settings = {"max_angle": 30.0}
seen: Counter[str] = Counter()


def angle_from_vertical(hand: Hand) -> float:
    """Degrees between "up" in the image and the wrist -> middle knuckle direction."""
    dx, dy = hand.keypoint("middle_finger_mcp") - hand.keypoint("wrist")
    return float(np.degrees(np.arctan2(abs(dx), -dy)))  # image y grows downwards


def palm_centre(hand: Hand) -> np.ndarray:
    return hand.keypoints[PALM].mean(axis=0)


@hookimpl
def gesturekit_configure(plugin_config: Mapping[str, Mapping[str, Any]]) -> None:
    settings.update(plugin_config.get("example", {}))


@hookimpl
def gesturekit_classify(frame: Frame) -> list[Detection]:
    detections = []
    for hand in frame.hands:
        angle = angle_from_vertical(hand)
        if angle <= settings["max_angle"]:
            detections.append(Detection("hand_up", score=hand.score, hands=(hand.track_id,),
                                        values={"angle": round(angle, 1)}))
    if len(frame.hands) >= 2:
        a, b = frame.hands[:2]
        distance = float(np.linalg.norm(palm_centre(a) - palm_centre(b))) / frame.width
        detections.append(Detection("two_hands", score=min(a.score, b.score),
                                    hands=(a.track_id, b.track_id), values={"distance": round(distance, 3)}))
    return detections


@hookimpl
def gesturekit_frame(frame: Frame, detections: list[Detection]) -> None:
    seen["frames"] += 1
    seen.update({d.gesture for d in detections})


@hookimpl
def gesturekit_shutdown() -> None:
    counts = ", ".join(f"{name} in {n}" for name, n in sorted(seen.items()) if name != "frames")
    log.info("example plugin saw %d frames: %s", seen["frames"], counts or "no gestures")


class CsvSink:
    """Writes one CSV row per GestureEvent. Config: ``path`` (required)."""

    columns = ["t", "seq", "gesture", "phase", "hands", "score", "frame", "source"]

    def __init__(self, config: Mapping[str, Any]) -> None:
        if "path" not in config:
            raise ConfigError("the example_csv sink needs a 'path'", field="path")
        self.path = str(config["path"])
        self._file = None

    def open(self) -> None:
        self._file = open(self.path, "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file)
        self._writer.writerow(self.columns)

    def send(self, event: GestureEvent) -> None:
        if self._file is None:
            self.open()
        hands = " ".join(f"{h['id']}:{h['handedness']}" for h in event.hands)
        self._writer.writerow([event.t, event.seq, event.gesture, event.phase, hands, event.score,
                               event.frame, event.source])
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@hookimpl
def gesturekit_register_sinks() -> dict:
    return {"example_csv": CsvSink}
