"""A small kinematic hand: bone lengths, joint angles, wrist pose and a pinhole camera.

Coordinates. The hand is built in its own frame with axes ``u`` (across the knuckles, from
the little finger toward the index: the radial side), ``v`` (from the wrist toward the
middle knuckle) and ``n`` (out of the palm, on the palmar side), for a *right* hand, with the
wrist at the origin. Finger flexion bends a finger toward ``+n``; splay turns it toward
``+u``. A :class:`WristPose` places it in the camera frame (x right, y down, z away from the
camera, metres): at zero rotation a right hand has its fingers up and its palm toward the
camera. A left hand is the mirror image (x negated) of the right one.

The rendered :class:`~gesturekit.Hand` has pixel keypoints from the :class:`Camera`
projection and metric keypoints with the origin at the mean of the four finger MCP knuckles,
in the camera's axes, like the tracker's world landmarks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from gesturekit.values import Frame, Hand

__all__ = [
    "Skeleton",
    "FingerAngles",
    "ThumbAngles",
    "HandPose",
    "WristPose",
    "Camera",
    "forward_kinematics",
    "camera_points",
    "render_hand",
    "make_frame",
    "BONES",
]

#: The 20 bones as (parent, child) keypoint indices, in keypoint order of the child.
BONES: tuple[tuple[int, int], ...] = (
    (0, 1), (1, 2), (2, 3), (3, 4),
    (0, 5), (5, 6), (6, 7), (7, 8),
    (0, 9), (9, 10), (10, 11), (11, 12),
    (0, 13), (13, 14), (14, 15), (15, 16),
    (0, 17), (17, 18), (18, 19), (19, 20),
)

_FINGER_NAMES = ("index", "middle", "ring", "pinky")
_MCP = np.array([5, 9, 13, 17])


def _unit(a: np.ndarray) -> np.ndarray:
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


@dataclass(frozen=True)
class Skeleton:
    """Bone geometry of a right hand in metres (an adult hand by default).

    :param mcp: (4, 3) MCP knuckle positions of index..pinky in the hand frame (u, v, n).
    :param phalanges: (4, 3) lengths of the proximal, middle and distal phalanges, index..pinky.
    :param rest_splay: (4,) resting splay of each finger in degrees (toward the thumb side).
    :param cmc: thumb CMC position in the hand frame.
    :param thumb: lengths of the thumb metacarpal, proximal and distal phalanges.
    """

    mcp: np.ndarray = field(default_factory=lambda: np.array([
        [0.026, 0.084, 0.000], [0.007, 0.088, 0.000], [-0.011, 0.083, 0.002], [-0.027, 0.075, 0.005]]))
    phalanges: np.ndarray = field(default_factory=lambda: np.array([
        [0.040, 0.024, 0.020], [0.045, 0.027, 0.021], [0.042, 0.026, 0.020], [0.033, 0.019, 0.018]]))
    rest_splay: np.ndarray = field(default_factory=lambda: np.array([6.0, 0.0, -6.0, -13.0]))
    cmc: np.ndarray = field(default_factory=lambda: np.array([0.022, 0.024, 0.010]))
    thumb: np.ndarray = field(default_factory=lambda: np.array([0.040, 0.032, 0.027]))

    def scaled(self, factor: float) -> Skeleton:
        """The same hand, ``factor`` times as large."""
        return Skeleton(self.mcp * factor, self.phalanges * factor, self.rest_splay, self.cmc * factor,
                        self.thumb * factor)

    def bone_lengths(self) -> np.ndarray:
        """(20,) lengths of :data:`BONES` (the thumb's first bone is wrist→CMC)."""
        out = np.empty(20)
        out[0] = np.linalg.norm(self.cmc)
        out[1:4] = self.thumb
        for i in range(4):
            out[4 + 4 * i] = np.linalg.norm(self.mcp[i])
            out[5 + 4 * i: 8 + 4 * i] = self.phalanges[i]
        return out


@dataclass(frozen=True)
class FingerAngles:
    """Joint angles of one finger, degrees: ``splay`` toward the thumb side (added to the
    resting splay), and flexion at the MCP, PIP and DIP joints (positive toward the palm)."""

    mcp: float = 0.0
    pip: float = 0.0
    dip: float = 0.0
    splay: float = 0.0


@dataclass(frozen=True)
class ThumbAngles:
    """Thumb angles, degrees.

    :param spread: metacarpal direction in the palm plane, from the ``v`` axis toward the
        radial side (0 = along the fingers, 90 = straight out sideways).
    :param lift: metacarpal out of the palm plane toward the palmar side (palmar abduction).
    :param mcp: flexion at the MCP joint.
    :param ip: flexion at the IP joint.
    :param twist: where the thumb bends: 0 toward the palmar side, 90 toward the little finger.
    """

    spread: float = 40.0
    lift: float = 10.0
    mcp: float = 5.0
    ip: float = 5.0
    twist: float = 45.0


def _interp(a: float, b: float, w: float) -> float:
    return a + (b - a) * w


@dataclass(frozen=True)
class HandPose:
    """Joint angles of a whole hand."""

    thumb: ThumbAngles = ThumbAngles()
    index: FingerAngles = FingerAngles()
    middle: FingerAngles = FingerAngles()
    ring: FingerAngles = FingerAngles()
    pinky: FingerAngles = FingerAngles()

    def fingers(self) -> tuple[FingerAngles, ...]:
        """index, middle, ring, pinky."""
        return (self.index, self.middle, self.ring, self.pinky)

    def blend(self, other: HandPose, w: float) -> HandPose:
        """Joint-space interpolation: ``w=0`` is this pose, ``w=1`` is ``other``."""

        def mix(a, b):  # noqa: ANN001, ANN202
            return type(a)(**{k: _interp(getattr(a, k), getattr(b, k), w) for k in a.__dataclass_fields__})

        fingers = (mix(a, b) for a, b in zip(self.fingers(), other.fingers(), strict=True))
        return HandPose(mix(self.thumb, other.thumb), *fingers)


def forward_kinematics(pose: HandPose, skeleton: Skeleton | None = None) -> np.ndarray:
    """(21, 3) keypoints of a right hand in the hand frame (u, v, n), wrist at the origin."""
    sk = skeleton or Skeleton()
    out = np.zeros((21, 3))
    # fingers, all four at once: (4,) angles -> (4, 3, 3) segment directions
    ang = np.radians(np.array([[f.mcp, f.pip, f.dip, f.splay] for f in pose.fingers()]))
    splay = np.radians(sk.rest_splay) + ang[:, 3]
    d0 = np.stack([np.sin(splay), np.cos(splay), np.zeros(4)], axis=1)  # (4, 3) straight direction
    cum = np.cumsum(ang[:, :3], axis=1)  # (4, 3) cumulative flexion per segment
    n = np.array([0.0, 0.0, 1.0])
    dirs = np.cos(cum)[..., None] * d0[:, None, :] + np.sin(cum)[..., None] * n  # (4, 3 seg, 3)
    pts = sk.mcp[:, None, :] + np.cumsum(dirs * sk.phalanges[..., None], axis=1)  # (4, 3, 3)
    idx = _MCP[:, None] + np.arange(4)[None, :]  # (4, 4) keypoint indices per finger
    out[idx[:, 0]] = sk.mcp
    out[idx[:, 1:]] = pts
    # thumb
    th = pose.thumb
    s, lift, tw = math.radians(th.spread), math.radians(th.lift), math.radians(th.twist)
    t0 = np.array([math.sin(s) * math.cos(lift), math.cos(s) * math.cos(lift), math.sin(lift)])
    f = np.array([-math.sin(tw), 0.0, math.cos(tw)])
    w = _unit(f - (f @ t0) * t0)
    a1, a2 = math.radians(th.mcp), math.radians(th.mcp + th.ip)
    out[1] = sk.cmc
    out[2] = out[1] + sk.thumb[0] * t0
    out[3] = out[2] + sk.thumb[1] * (math.cos(a1) * t0 + math.sin(a1) * w)
    out[4] = out[3] + sk.thumb[2] * (math.cos(a2) * t0 + math.sin(a2) * w)
    return out


def _rotation(roll: float, pitch: float, yaw: float) -> np.ndarray:
    """Rotation (camera frame) from degrees: ``roll`` turns the hand counter-clockwise in the
    image, ``pitch`` tips the fingers away from the camera, ``yaw`` turns it about the image's
    vertical axis."""
    r, p, y = (math.radians(a) for a in (roll, pitch, yaw))
    rz = np.array([[math.cos(r), math.sin(r), 0], [-math.sin(r), math.cos(r), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    ry = np.array([[math.cos(y), 0, math.sin(y)], [0, 1, 0], [-math.sin(y), 0, math.cos(y)]])
    return rz @ rx @ ry


#: Hand frame (u, v, n) -> camera frame at zero rotation: fingers up, palm toward the camera.
_BASE = np.array([[1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]])


@dataclass(frozen=True)
class WristPose:
    """Where the hand is: the wrist position in the camera frame (metres) and the hand's
    rotation in degrees (see :func:`_rotation`); zero rotation = fingers up, palm to camera."""

    x: float = 0.0
    y: float = 0.0
    z: float = 0.5
    roll: float = 0.0
    pitch: float = 0.0
    yaw: float = 0.0

    def moved(self, **kw: float) -> WristPose:
        """A copy with some fields replaced."""
        return replace(self, **kw)

    def matrix(self) -> np.ndarray:
        """(3, 3) hand frame -> camera frame rotation."""
        return _rotation(self.roll, self.pitch, self.yaw) @ _BASE


@dataclass(frozen=True)
class Camera:
    """A pinhole camera: image size in pixels and focal length in pixels (principal point at
    the image centre)."""

    width: int = 640
    height: int = 480
    focal: float = 600.0

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame points (z > 0) -> (..., 2) pixels."""
        z = points[..., 2:3]
        if np.any(z <= 0):
            raise ValueError("points behind the camera")
        c = np.array([self.width / 2, self.height / 2])
        return self.focal * points[..., :2] / z + c

    def unproject(self, px: np.ndarray, z: float | np.ndarray) -> np.ndarray:
        """Pixels at depth ``z`` -> camera-frame points (the inverse of :meth:`project`)."""
        c = np.array([self.width / 2, self.height / 2])
        z = np.asarray(z, dtype=float)
        xy = (np.asarray(px, dtype=float) - c) * (z[..., None] if z.ndim else z) / self.focal
        return np.concatenate([xy, np.broadcast_to(z, xy.shape[:-1])[..., None]], axis=-1)


def camera_points(pose: HandPose, wrist: WristPose, handedness: str = "right",
                  skeleton: Skeleton | None = None) -> np.ndarray:
    """(21, 3) keypoints in the camera frame (metres)."""
    local = forward_kinematics(pose, skeleton)
    pts = local @ wrist.matrix().T
    if handedness == "left":
        pts[:, 0] = -pts[:, 0]
    elif handedness != "right":
        raise ValueError(f"handedness must be 'left' or 'right', got {handedness!r}")
    return pts + np.array([wrist.x, wrist.y, wrist.z])


def render_hand(pose: HandPose, wrist: WristPose, handedness: str = "right", camera: Camera | None = None,
                track_id: int = 0, skeleton: Skeleton | None = None, noise_px: float = 0.0,
                noise_m: float = 0.0, rng: np.random.Generator | None = None, score: float = 0.98) -> Hand:
    """A :class:`~gesturekit.Hand` as the tracker would report it for this pose.

    :param noise_px: standard deviation of Gaussian noise added to the pixel keypoints.
    :param noise_m: standard deviation of Gaussian noise added to the metric keypoints.
    """
    cam = camera or Camera()
    pts = camera_points(pose, wrist, handedness, skeleton)
    px = cam.project(pts)
    world = pts - pts[_MCP].mean(axis=0)
    if noise_px or noise_m:
        rng = rng if rng is not None else np.random.default_rng(0)
        px = px + rng.normal(0.0, noise_px, px.shape) if noise_px else px
        world = world + rng.normal(0.0, noise_m, world.shape) if noise_m else world
    return Hand(track_id, handedness, 0.97, score, px, world)  # type: ignore[arg-type]


def make_frame(index: int, t: float, hands: tuple[Hand, ...] | list[Hand], camera: Camera | None = None,
               source: str = "synthetic") -> Frame:
    """A :class:`~gesturekit.Frame` holding ``hands`` (sorted by track id)."""
    cam = camera or Camera()
    return Frame(index=index, t=t, width=cam.width, height=cam.height, source=source,
                 hands=tuple(sorted(hands, key=lambda h: h.track_id)))
