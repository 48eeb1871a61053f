"""Seeing what gesturekit sees: the overlay (:func:`draw_frame`), the active-gesture state kept
from events (:class:`GestureState`) and annotated video (:class:`AnnotatedVideo`).

Used by ``run --annotate`` (the ``annotate`` frame observer), ``view`` and ``demo``.
"""

from gesturekit.render.overlay import (
    PULSE_SHOW,
    WRIST_COLOUR,
    ActiveGesture,
    GestureState,
    blank_image,
    draw_frame,
    track_colour,
)
from gesturekit.render.video import AnnotatedVideo, fourcc_for

__all__ = ["ActiveGesture", "GestureState", "draw_frame", "blank_image", "track_colour", "WRIST_COLOUR",
           "PULSE_SHOW", "AnnotatedVideo", "fourcc_for"]
