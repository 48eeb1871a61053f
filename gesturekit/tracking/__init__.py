"""Hand tracking: MediaPipe hand landmarker, track ids, smoothing, model bundles."""

from .models import MODEL_NAMES, model_bundle
from .smoothing import OneEuroFilter
from .tracker import MCP_KNUCKLES, Tracker, TrackerOptions
from .tracks import TrackAssigner

__all__ = ["MODEL_NAMES", "model_bundle", "OneEuroFilter", "MCP_KNUCKLES", "Tracker", "TrackerOptions", "TrackAssigner"]
