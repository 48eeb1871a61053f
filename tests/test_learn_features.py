"""The shared hand features (gesturekit.learn.features) on real tracked hands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesturekit import InputError
from gesturekit.learn.features import FEATURE_BLOCKS, FEATURE_VERSION, feature_names, hand_features, n_features
from tests.shared_data import data_file


@pytest.fixture(scope="module")
def clip() -> tuple[np.ndarray, np.ndarray]:
    kp = np.array(json.loads(data_file("tracking/asl_hand.full.json").read_text()), dtype=np.float64)[:, :, :2]
    k3 = np.array(json.loads(data_file("tracking/asl_hand_3d.full.json").read_text()), dtype=np.float64)
    return kp, k3


def test_layout(clip):
    kp, k3 = clip
    x = hand_features(kp, k3, "right")
    assert x.shape == (325, n_features()) == (325, len(feature_names()))
    assert n_features() == sum(s for _, s in FEATURE_BLOCKS) == 221
    assert x.dtype == np.float64 and np.isfinite(x).all()
    assert FEATURE_VERSION == "hand-3"


def test_invariant_to_position_size_and_side(clip):
    kp, k3 = clip
    x = hand_features(kp, k3, "right", np.tile([620, 1080], (325, 1)))
    moved = hand_features(kp * 0.37 + [55.0, -20.0], k3 * 1.4, "right")
    np.testing.assert_allclose(moved, x, atol=1e-9)
    mirrored_kp = kp.copy()
    mirrored_kp[:, :, 0] = 620 - mirrored_kp[:, :, 0]
    mirrored_k3 = k3 * [-1.0, 1.0, 1.0]
    np.testing.assert_allclose(hand_features(mirrored_kp, mirrored_k3, "left"), x, atol=1e-9)


def test_shape_blocks_rotation_invariant_orientation_not(clip):
    kp, k3 = clip
    a = np.radians(40)
    r = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    names = feature_names()
    x = hand_features(kp, None, "right")
    y = hand_features(kp @ r.T, None, "right")
    shape = [i for i, n in enumerate(names) if n.split(":")[0] in ("c2", "ang2", "dist2", "abd")]
    np.testing.assert_allclose(y[:, shape], x[:, shape], atol=1e-9)
    along = names.index("orient:along_cos")
    angle = np.degrees(np.arctan2(y[:, along + 1], y[:, along]) - np.arctan2(x[:, along + 1], x[:, along]))
    np.testing.assert_allclose((angle + 180) % 360 - 180, 40.0, atol=1e-6)


def test_values_on_the_first_frame(clip):
    kp, k3 = clip
    x = hand_features(kp[:1], k3[:1], "right")[0]
    names = feature_names()
    # palm centre is the origin of the canonical frames, wrist -> middle knuckle is +y
    c = {n: x[i] for i, n in enumerate(names)}
    assert c["c2:9x"] == pytest.approx(c["c2:0x"], abs=1e-9) and c["c2:9y"] > c["c2:0y"] + 0.5
    assert c["c3:9x"] == pytest.approx(c["c3:0x"], abs=1e-9) and c["c3:9y"] > c["c3:0y"] + 0.5
    assert np.mean([c[f"c3:{k}{a}"] for k in (5, 9, 13, 17) for a in "xyz"]) == pytest.approx(0.0, abs=1e-9)
    # distances are in palm units; joint angles in radians
    assert 0.0 < c["dist2:4-8"] < 3.0
    assert all(0.0 <= x[i] <= np.pi for i, n in enumerate(names) if n.startswith(("ang", "abd")))
    assert all(-1.0 <= x[i] <= 1.0 for i, n in enumerate(names) if n.startswith("vert"))


def test_2d_only_rows_fall_back_consistently(clip):
    kp, k3 = clip
    names = feature_names()
    nan = hand_features(kp, np.full_like(k3, np.nan), "right")
    none = hand_features(kp, None, "right")
    np.testing.assert_array_equal(nan, none)
    assert np.isfinite(nan).all()
    # the 3D blocks of a 2D-only row are the 2D blocks (the hand lifted onto a plane)
    i2, i3 = names.index("ang2:f0j0"), names.index("ang3:f0j0")
    np.testing.assert_allclose(nan[:, i3:i3 + 15], nan[:, i2:i2 + 15])
    # use_3d=False zeroes the 3D shape columns but keeps the world-based vert block
    no3 = hand_features(kp, k3, "right", use_3d=False)
    assert (no3[:, names.index("c3:8x")] == 0).all() and (no3[:, i3] == 0).all()
    v = names.index("vert:0-9")
    np.testing.assert_allclose(no3[:, v:v + 8], hand_features(kp, k3, "right")[:, v:v + 8])


@pytest.mark.parametrize("bad, msg", [
    (dict(keypoints=np.zeros((3, 20, 2))), "shape"),
    (dict(keypoints3d=np.zeros((2, 21, 3))), "keypoints3d"),
    (dict(handedness=["up", "right", "left"]), "handedness"),
    (dict(keypoints=np.full((3, 21, 2), np.nan)), "finite"),
])
def test_bad_input_one_clear_error(clip, bad, msg):
    kp, k3 = clip
    args = dict(keypoints=kp[:3], keypoints3d=k3[:3], handedness=["right", "left", "unknown"])
    args.update(bad)
    with pytest.raises(InputError, match=msg):
        hand_features(**args)


def test_fast(clip):
    import time

    kp, k3 = clip
    hand_features(kp, k3, "right")
    t = []
    for _ in range(5):
        t0 = time.perf_counter()
        hand_features(kp, k3, "right")
        t.append(time.perf_counter() - t0)
    assert np.median(t) / len(kp) < 1e-4  # < 0.1 ms per hand, batched


@pytest.mark.parametrize("hand", ["right", "left", "unknown"])
def test_dist_vert_fast_path_matches(clip, hand):
    from gesturekit.learn.features import block_columns, dist_vert_features

    kp, k3 = clip
    cols = block_columns(("dist2", "vert"))
    assert len(cols) == 36
    for k in (k3, None):
        np.testing.assert_allclose(dist_vert_features(kp, k, hand), hand_features(kp, k, hand, use_3d=False)[:, cols],
                                   atol=1e-12)
    with pytest.raises(InputError):
        block_columns(("nope",))
