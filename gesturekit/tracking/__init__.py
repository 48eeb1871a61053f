"""Hand tracking: MediaPipe hand landmarker, track ids, smoothing, model bundles."""

from gesturekit.tracking.models import MODEL_NAMES, model_bundle
from gesturekit.tracking.smoothing import OneEuroFilter
from gesturekit.tracking.tracker import MCP_KNUCKLES, Tracker, TrackerOptions
from gesturekit.tracking.tracks import TrackAssigner

__all__ = ["MODEL_NAMES", "model_bundle", "OneEuroFilter", "MCP_KNUCKLES", "Tracker", "TrackerOptions", "TrackAssigner"]
