"""Normalization and features on exact geometric hands: known inputs, known answers."""

from __future__ import annotations

import numpy as np
import pytest
from rules_helpers import POSES, frame, hand_points, make_hand, pose_points, rotation

from gesturekit.features import (
    CURLED,
    EXTENDED,
    HALF,
    FeatureExtractor,
    StateThresholds,
    finger_curls,
    finger_states,
    nearest_direction,
)
from gesturekit.features.normalize import angle_between, canonicalize, palm_axes, palm_center, palm_size


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


# ------------------------------------------------------------------------------------------------
# normalize
# ------------------------------------------------------------------------------------------------


def test_palm_center_and_size_known_values():
    p = np.zeros((21, 3))
    p[[5, 9, 13, 17]] = [[1, 4, 0], [-1, 4, 0], [1, 2, 0], [-1, 2, 0]]  # wrist at the origin
    assert palm_center(p)[0] == pytest.approx([0, 3, 0])
    assert palm_size(p)[0] == pytest.approx((2 * np.sqrt(17) + 2 * np.sqrt(5)) / 4)


def test_palm_axes_of_a_right_hand_facing_the_camera():
    # hand frame -> world: x stays, y and z flip (fingers up in the image, palm toward the camera)
    hand = make_hand(hand_points())
    axes = palm_axes(hand.keypoints3d[None], ["right"])[0]
    assert axes[0] == pytest.approx([1, 0, 0], abs=0.05)  # pinky -> index: image right
    assert axes[1] == pytest.approx([0, -1, 0], abs=0.05)  # wrist -> middle knuckle: image up
    assert axes[2] == pytest.approx([0, 0, -1], abs=0.05)  # out of the palm: toward the camera


def test_canonicalize_is_invariant_to_rotation_scale_translation():
    rng = np.random.default_rng(0)
    p = pose_points("victory")
    base = canonicalize(p, ["right"])[0]
    for _ in range(5):
        q = p @ _random_rotation(rng).T * rng.uniform(0.3, 3.0) + rng.normal(size=3)
        assert canonicalize(q, ["right"])[0] == pytest.approx(base, abs=1e-9)
    # the knuckles' mean is the origin and the palm is one unit
    assert base[[5, 9, 13, 17]].mean(axis=0) == pytest.approx([0, 0, 0], abs=1e-12)
    assert np.linalg.norm(base[[5, 9, 13, 17]] - base[0], axis=1).mean() == pytest.approx(1.0)


def test_canonicalize_mirrors_left_hands_onto_right():
    p = pose_points("rock")
    right = canonicalize(p, ["right"])[0]
    left = p * np.array([-1.0, 1.0, 1.0])  # the mirror image is a left hand
    assert canonicalize(left, ["left"])[0] == pytest.approx(right, abs=1e-9)
    # without mirroring, the left hand's palm-normal axis is flipped
    unmirrored = canonicalize(left, ["left"], mirror_left=False)[0]
    assert unmirrored[:, 2] == pytest.approx(-right[:, 2], abs=1e-9)
    assert not np.allclose(unmirrored, right)


def test_canonicalize_rejects_bad_shapes():
    with pytest.raises(ValueError, match="21"):
        canonicalize(np.zeros((20, 3)))


def test_angle_between():
    assert angle_between(np.array([1.0, 0, 0]), np.array([0, 1.0, 0])) == pytest.approx(90)
    assert angle_between(np.array([1.0, 1, 0]), np.array([1.0, 0, 0])) == pytest.approx(45)


# ------------------------------------------------------------------------------------------------
# curl and states
# ------------------------------------------------------------------------------------------------


def test_finger_curls_known_angles():
    p = hand_points()
    # a straight finger bends only where the wrist-knuckle line meets it (its splay)
    splay = np.degrees(np.arctan2(np.abs(p[[5, 9, 13, 17], 0]), p[[5, 9, 13, 17], 1]))
    assert finger_curls(p)[0, 1:] == pytest.approx(splay, abs=1e-9)
    assert splay[1] == pytest.approx(0)  # the middle finger is in line with the wrist
    bent = finger_curls(hand_points({"middle": (30, 60, 20), "ring": (0, 90, 0)}))[0]
    assert bent[2] == pytest.approx(110)
    assert bent[3] == pytest.approx(splay[2] + 90)


def test_finger_curls_invariant_to_rotation_and_scale():
    rng = np.random.default_rng(1)
    p = hand_points({"index": (30, 60, 20), "middle": (70, 100, 60)})
    base = finger_curls(p)[0]
    for _ in range(5):
        q = p @ _random_rotation(rng).T * rng.uniform(0.5, 2.0)
        assert finger_curls(q)[0] == pytest.approx(base, abs=1e-4)
    assert finger_curls(p * np.array([-1, 1, 1]))[0] == pytest.approx(base, abs=1e-4)


def test_finger_states_thresholds_and_hysteresis():
    t = StateThresholds()
    # columns: thumb reach, index..pinky curl
    flex = np.array([[1.5, 20.0, 100.0, 118.0, 200.0]])
    assert finger_states(flex).tolist() == [[EXTENDED, EXTENDED, HALF, HALF, CURLED]]
    # a finger that was extended stays extended until the exit value; curled likewise
    prev = np.array([[EXTENDED, EXTENDED, EXTENDED, CURLED, CURLED]])
    assert finger_states(flex, prev).tolist() == [[EXTENDED, EXTENDED, EXTENDED, CURLED, CURLED]]
    beyond = np.array([[t.thumb_extended_exit - 0.01, 20.0, t.extended_exit + 1, t.curled_exit - 1, 200.0]])
    assert finger_states(beyond, prev).tolist() == [[HALF, EXTENDED, HALF, HALF, CURLED]]
    # the thumb: small reach is curled
    assert finger_states(np.array([[0.5, 0, 0, 0, 0]]))[0, 0] == CURLED


def test_state_thresholds_reject_bad_order():
    with pytest.raises(ValueError, match="extended_enter"):
        StateThresholds(extended_enter=120, extended_exit=100)


# ------------------------------------------------------------------------------------------------
# the extractor: states, directions, palm, distances, motion, pairs
# ------------------------------------------------------------------------------------------------

EXPECTED_STATES = {
    "open_palm": "eeeee", "fist": "ccccc", "four": "ceeee", "victory": "ceecc", "rock": "cecce",
    "i_love_you": "eecce", "call": "eccce", "pointing_up": "ceccc", "three": "eeecc", "thumbs_up": "ecccc",
    "stop": "eeeee", "two_up": "ceecc",
}


def _states(h) -> str:  # noqa: ANN001
    f = FeatureExtractor().extract(frame(h))
    return "".join("ehc"[s] for s in f.state[0])


@pytest.mark.parametrize("pose", sorted(POSES))
def test_states_of_named_poses_under_rotation_scale_and_mirroring(pose):
    assert _states(make_hand(pose_points(pose))) == EXPECTED_STATES[pose]
    # the hand tilted toward the camera and rolled in the image plane, smaller, elsewhere
    rot = rotation("z", 35) @ rotation("x", 25)
    assert _states(make_hand(pose_points(pose), rot=rot, px_per_m=700, offset_px=(100, 400))) == EXPECTED_STATES[pose]
    # the same pose by a left hand
    assert _states(make_hand(pose_points(pose), handedness="left", mirror_x=True)) == EXPECTED_STATES[pose]


def test_directions_from_the_performers_point_of_view():
    # fingers up in the image; the hand rolled so that they point to the image's right
    up = FeatureExtractor().extract(frame(make_hand(hand_points())))
    names, angles = nearest_direction(up.direction[0, 1:])
    assert names == ["up"] * 4 and (angles < 10).all()
    image_right = make_hand(hand_points(), rot=rotation("z", 90))  # +y_hand (up) -> +x image
    unmirrored = FeatureExtractor(mirrored=False).extract(frame(image_right))
    mirrored = FeatureExtractor(mirrored=True).extract(frame(image_right))
    # unmirrored camera: the image's right is the performer's left
    assert nearest_direction(unmirrored.direction[0, 2])[0] == ["left"]
    assert nearest_direction(mirrored.direction[0, 2])[0] == ["right"]


def test_palm_facing_camera_for_both_hands():
    right = FeatureExtractor().extract(frame(make_hand(hand_points())))
    left = FeatureExtractor().extract(frame(make_hand(hand_points(), handedness="left", mirror_x=True)))
    assert nearest_direction(right.palm_normal[0])[0] == ["forward"]
    assert nearest_direction(left.palm_normal[0])[0] == ["forward"]
    # turned around (back of the hand to the camera): palm faces back, toward the performer
    back = FeatureExtractor().extract(frame(make_hand(hand_points(), rot=rotation("y", 180))))
    assert nearest_direction(back.palm_normal[0])[0] == ["back"]


def test_fingertip_distances_in_palm_units_are_scale_invariant():
    p = hand_points({"index": (20, 30, 10)})
    a = FeatureExtractor().extract(frame(make_hand(p, px_per_m=2000)))
    b = FeatureExtractor().extract(frame(make_hand(p * 1.7, px_per_m=500)))
    d = a.distance(4, 8)[0]
    assert d == pytest.approx(b.distance(4, 8)[0], rel=1e-6)
    palm = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean()
    assert d == pytest.approx(np.linalg.norm(p[4] - p[8]) / palm, rel=1e-6)


def test_velocity_and_motion_over_a_window():
    ex = FeatureExtractor(mirrored=False)
    p = hand_points()
    palm_px = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean() * 1500
    feats = None
    for i in range(6):  # 100 px per 0.1 s toward the image's right
        feats = ex.extract(frame(make_hand(p, offset_px=(100 + 100 * i, 240)), t=0.1 * i, index=i))
    # the image's right is the performer's left (-x), at 1000 px/s
    assert feats.velocity[0] == pytest.approx([-1000 / palm_px, 0], rel=1e-3, abs=1e-6)
    disp, dt = feats.motion(0, 0.3)
    assert dt == pytest.approx(0.3)
    assert disp == pytest.approx([-300 / palm_px, 0], rel=1e-3, abs=1e-6)
    ex.reset_motion(1, feats.t)
    assert feats.motion(0, 0.3)[1] == 0.0


def test_two_hand_distance_and_its_change():
    ex = FeatureExtractor()
    p = hand_points()
    palm_px = np.linalg.norm(p[[5, 9, 13, 17]] - p[0], axis=1).mean() * 1500
    for i, gap in enumerate((200, 300, 400)):
        f = ex.extract(frame(make_hand(p, 1, offset_px=(320 - gap / 2, 240)),
                             make_hand(p, 2, "left", offset_px=(320 + gap / 2, 240), mirror_x=True), t=0.1 * i))
        pairs = ex.pairs(f)
    assert len(pairs) == 1
    assert pairs[0].distance == pytest.approx(400 / palm_px, rel=1e-6)
    assert pairs[0].distance_frame == pytest.approx(400 / 640)
    change, dt = ex.pair_change(f, pairs[0], 0.2)
    assert change == pytest.approx(200 / palm_px, rel=1e-6) and dt == pytest.approx(0.2)


def test_no_hands_gives_empty_features():
    f = FeatureExtractor().extract(frame())
    assert len(f) == 0 and f.state.shape == (0, 5)
