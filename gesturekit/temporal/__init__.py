"""The temporal engine: per-frame Detections -> GestureEvents (start/hold/update/end/pulse)."""

from gesturekit.temporal.engine import TemporalEngine
from gesturekit.values import TemporalSpec

__all__ = ["TemporalSpec", "TemporalEngine"]
