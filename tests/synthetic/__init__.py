"""A synthetic kinematic hand: named poses and motions rendered to real Frames and Hands.

Used by the property tests and to generate the bundled demo session
(``python -m synthetic.demo_session``). Example::

    from synthetic import HandState, Timeline, render_hand, pose, canonical_wrist

    hand = render_hand(pose("victory"), canonical_wrist("victory"), "left")
    frames = list(Timeline(fps=15).transition("fist").swipe("left").frames())
"""

from synthetic._hand import (
    BONES,
    Camera,
    FingerAngles,
    HandPose,
    Skeleton,
    ThumbAngles,
    WristPose,
    camera_points,
    forward_kinematics,
    make_frame,
    render_hand,
)
from synthetic._motions import IMAGE_DIRECTIONS, HandState, Timeline, min_jerk
from synthetic._poses import POSE_NAMES, STATIC_GESTURE_POSES, canonical_wrist, pose, solve_thumb

__all__ = [
    "BONES",
    "Camera",
    "FingerAngles",
    "HandPose",
    "Skeleton",
    "ThumbAngles",
    "WristPose",
    "camera_points",
    "forward_kinematics",
    "make_frame",
    "render_hand",
    "IMAGE_DIRECTIONS",
    "HandState",
    "Timeline",
    "min_jerk",
    "POSE_NAMES",
    "STATIC_GESTURE_POSES",
    "canonical_wrist",
    "pose",
    "solve_thumb",
]
