"""Geometry of the synthetic kinematic hand: bones, joint angles, projection, mirroring, motions."""

from __future__ import annotations

import numpy as np
import pytest
from synthetic import (
    BONES,
    POSE_NAMES,
    Camera,
    FingerAngles,
    HandPose,
    HandState,
    Skeleton,
    ThumbAngles,
    Timeline,
    WristPose,
    camera_points,
    canonical_wrist,
    forward_kinematics,
    pose,
    render_hand,
)

from gesturekit import Frame, Hand
from gesturekit.sources.recording import FrameWriter, ReplaySource

BONE = np.array(BONES)
MCP = [5, 9, 13, 17]


def _bone_lengths(kp: np.ndarray) -> np.ndarray:
    return np.linalg.norm(kp[BONE[:, 1]] - kp[BONE[:, 0]], axis=1)


def _random_pose(rng: np.random.Generator) -> HandPose:
    fingers = [FingerAngles(*rng.uniform([-10, 0, 0, -10], [90, 110, 70, 10])) for _ in range(4)]
    thumb = ThumbAngles(*rng.uniform([-20, -10, -10, -10, 0], [80, 80, 80, 90, 90]))
    return HandPose(thumb, *fingers)


@pytest.mark.parametrize("name", POSE_NAMES)
def test_named_poses_keep_bone_lengths_in_every_placement(name):
    sk = Skeleton()
    want = sk.bone_lengths()
    assert np.all(want > 0.01) and np.all(want < 0.1)
    for hd in ("right", "left"):
        for wrist in (canonical_wrist(name), WristPose(0.05, -0.02, 0.7, roll=33, pitch=-20, yaw=25)):
            h = render_hand(pose(name), wrist, hd)
            np.testing.assert_allclose(_bone_lengths(h.keypoints3d), want, atol=1e-12)


def test_random_angles_and_scaled_skeleton_keep_bone_lengths():
    rng = np.random.default_rng(7)
    for _ in range(50):
        sk = Skeleton().scaled(rng.uniform(0.7, 1.3))
        kp = forward_kinematics(_random_pose(rng), sk)
        np.testing.assert_allclose(_bone_lengths(kp), sk.bone_lengths(), atol=1e-12)
    np.testing.assert_allclose(Skeleton().scaled(1.2).bone_lengths(), 1.2 * Skeleton().bone_lengths())


def test_joint_angles_are_the_flexion_between_bones():
    p = HandPose(ThumbAngles(30, 20, 25, 35, 45), FingerAngles(10, 20, 30), FingerAngles(40, 50, 60),
                 FingerAngles(0, 90, 0), FingerAngles(70, 80, 5))
    kp = forward_kinematics(p)
    def ang(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.degrees(np.arctan2(np.linalg.norm(np.cross(a, b)), a @ b)))

    for f, (a, b, c, d) in zip(p.fingers(), ((5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20)),
                               strict=True):
        for want, (i, j, k) in ((f.pip, (a, b, c)), (f.dip, (b, c, d))):
            assert ang(kp[j] - kp[i], kp[k] - kp[j]) == pytest.approx(want, abs=1e-6)
    u, v, w = kp[2] - kp[1], kp[3] - kp[2], kp[4] - kp[3]
    assert ang(u, v) == pytest.approx(25, abs=1e-6) and ang(v, w) == pytest.approx(35, abs=1e-6)


def test_projection_and_metric_keypoints_agree():
    cam = Camera(1280, 720, 900.0)
    rng = np.random.default_rng(3)
    for _ in range(20):
        wrist = WristPose(*rng.uniform([-0.1, -0.1, 0.3, -40, -30, -30], [0.1, 0.1, 0.9, 40, 30, 30]))
        hd = "left" if rng.random() < 0.5 else "right"
        p = _random_pose(rng)
        pts = camera_points(p, wrist, hd)
        h = render_hand(p, wrist, hd, cam, track_id=4)
        assert isinstance(h, Hand) and h.track_id == 4 and h.handedness == hd
        np.testing.assert_allclose(h.keypoints, cam.project(pts), atol=1e-9)
        # metric keypoints: the camera points with the origin moved to the MCP mean
        np.testing.assert_allclose(h.keypoints3d[MCP].mean(axis=0), 0, atol=1e-12)
        np.testing.assert_allclose(h.keypoints3d, pts - pts[MCP].mean(axis=0), atol=1e-12)
        # back-projecting the pixels at the true depth gives the 3D points
        np.testing.assert_allclose(cam.unproject(h.keypoints, pts[:, 2]), pts, atol=1e-9)
    # farther away = smaller in the image, same metric shape
    near = render_hand(pose("open_palm"), canonical_wrist("open_palm", z=0.4), camera=cam)
    far = render_hand(pose("open_palm"), canonical_wrist("open_palm", z=0.8), camera=cam)
    span = lambda h: np.ptp(h.keypoints, axis=0).max()  # noqa: E731
    assert span(near) / span(far) == pytest.approx(2.0, rel=0.05)
    np.testing.assert_allclose(near.keypoints3d, far.keypoints3d, atol=1e-12)


def test_left_hand_is_the_mirror_image_and_palm_faces_camera():
    for name in ("open_palm", "victory", "call"):
        r = render_hand(pose(name), WristPose(0, 0, 0.5), "right")
        left = render_hand(pose(name), WristPose(0, 0, 0.5), "left")
        np.testing.assert_allclose(left.keypoints3d * [-1, 1, 1], r.keypoints3d, atol=1e-12)
    r = render_hand(pose("open_palm"), canonical_wrist("open_palm"), "right")
    left = render_hand(pose("open_palm"), canonical_wrist("open_palm", handedness="left"), "left")
    # a right palm facing an unmirrored camera has its thumb on the image's right
    assert r.keypoints[4, 0] > r.keypoints[20, 0] and left.keypoints[4, 0] < left.keypoints[20, 0]
    # fingers up: tips above the wrist
    assert np.all(r.keypoints[[8, 12, 16, 20], 1] < r.keypoints[0, 1] - 100)
    # the palm normal (index x pinky knuckle, from the wrist) points toward the camera (-z) for
    # the right hand; the mirror flips the cross product for the left
    for h, sign in ((r, -1), (left, 1)):
        k = h.keypoints3d
        nrm = np.cross(k[5] - k[0], k[17] - k[0])
        assert np.sign(nrm[2]) == sign
    # both canonical hands are centred where asked (in metres: within a pixel in the image)
    for h in (r, left):
        assert np.abs(h.keypoints.mean(axis=0) - [320, 240]).max() < 1.0


def test_canonical_poses_look_like_their_gestures():
    def hand(name: str) -> Hand:
        return render_hand(pose(name), canonical_wrist(name))

    def palm(h: Hand) -> float:
        return float(np.linalg.norm(h.keypoints3d[9] - h.keypoints3d[0]))

    up, down = hand("thumbs_up"), hand("thumbs_down")
    for h, sign in ((up, -1), (down, 1)):  # straight up / down (within a degree: perspective)
        d = h.keypoints[4] - h.keypoints[2]
        assert np.sign(d[1]) == sign and abs(d[0]) < np.tan(np.radians(1)) * abs(d[1])
    for name in ("ok", "pinch"):
        h = hand(name)
        assert np.linalg.norm(h.keypoints3d[4] - h.keypoints3d[8]) < 0.2 * palm(h)  # tips touch
    f = hand("fist")
    tips_to_wrist = np.linalg.norm(f.keypoints3d[[8, 12, 16, 20]] - f.keypoints3d[0], axis=1)
    assert np.all(tips_to_wrist < palm(f))  # curled fingers end inside the palm's length
    o = hand("open_palm")
    assert np.all(np.linalg.norm(o.keypoints3d[[8, 12, 16, 20]] - o.keypoints3d[0], axis=1) > 1.6 * palm(o))
    # folded thumbs end in front of the palm, between the knuckles
    for name in ("four", "fist", "victory", "pointing_up", "rock"):
        k = forward_kinematics(pose(name))
        assert -0.03 < k[4, 0] < 0.03 and k[4, 2] > 0.015, name


def test_timeline_frames_swipe_and_two_hands():
    tl = Timeline(fps=20).transition("open_palm", hold=0.2)
    tl.swipe("left", distance=0.2, duration=0.4)
    frames = list(tl.frames(noise_px=0.3, seed=1))
    assert all(isinstance(f, Frame) and len(f.hands) == 1 for f in frames)
    assert [f.index for f in frames] == list(range(len(frames)))
    assert np.allclose(np.diff([f.t for f in frames]), 1 / 20)
    assert len(frames) == round(tl.duration * 20)
    x = np.array([f.hands[0].keypoints[:, 0].mean() for f in frames])
    i0 = round((0.35 + 0.2 + 0.4 + 0.3) * 20)  # the swipe segment
    swipe = x[i0: i0 + 8]
    assert np.all(np.diff(swipe) < 0)  # moves toward the image's left
    assert x[i0] - x[-1] == pytest.approx(0.2 * 600 / 0.5, rel=0.05)  # 0.2 m at 0.5 m, f = 600 px
    # seeded: the same arguments give the same frames
    again = list(tl.frames(noise_px=0.3, seed=1))
    assert again == frames and list(tl.frames(noise_px=0.3, seed=2)) != frames

    tl2 = Timeline(fps=15).two_hands("open_palm", 0.15, 0.4, duration=0.6)
    fr2 = list(tl2.frames())
    gaps = [abs(f.hands[1].keypoints[:, 0].mean() - f.hands[0].keypoints[:, 0].mean()) for f in fr2]
    assert {h.handedness for h in fr2[0].hands} == {"left", "right"}
    assert gaps[-1] > 2 * gaps[0] and np.all(np.diff(gaps) >= -1e-9)


def test_transition_blends_joint_angles():
    a, b = HandState.named("fist"), HandState.named("open_palm")
    mid = a.blend(b, 0.5)
    assert mid.pose.index.pip == pytest.approx((a.pose.index.pip + b.pose.index.pip) / 2)
    assert mid.wrist.y == pytest.approx((a.wrist.y + b.wrist.y) / 2)


def test_synthetic_frames_round_trip_through_a_recording(tmp_path):
    frames = list(Timeline(fps=10).transition("victory", hold=0.3).frames(noise_px=0.5))
    path = tmp_path / "s.jsonl"
    with FrameWriter(str(path)) as w:
        for f in frames:
            w.write(f)
    got = [item.frame for item in ReplaySource(str(path))]
    assert got == frames
