"""The event bus: every GestureEvent fanned out to every sink, never blocking the publisher."""

from gesturekit.bus.event_bus import EventBus, Sink, SinkStats, sink_connected, stats_table

__all__ = ["EventBus", "Sink", "SinkStats", "sink_connected", "stats_table"]
