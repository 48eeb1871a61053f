"""Synthetic signers (gesturekit.learn.synth) on real tracked hands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gesturekit import InputError
from gesturekit.learn import SampleArrays
from gesturekit.learn.features import feature_names, hand_features
from gesturekit.learn.synth import SynthParams, balance_classes, synthetic_signers
from tests.shared_data import data_file


@pytest.fixture(scope="module")
def photos() -> SampleArrays:
    """25 real hands: every 13th frame of the fingerspelling clip's golden landmarks."""
    kp = np.array(json.loads(data_file("tracking/asl_hand.full.json").read_text()))[::13, :, :2]
    k3 = np.array(json.loads(data_file("tracking/asl_hand_3d.full.json").read_text()))[::13]
    n = len(kp)
    return SampleArrays(labels=np.array(["a", "b", "c"])[np.arange(n) % 3], keypoints=kp, keypoints3d=k3,
                        handedness=np.array(["right"] * n), groups=np.array(["clip"] * n),
                        sources=np.array(["asl_hand"] * n), frames=np.arange(n) * 13,
                        sizes=np.tile([620, 1080], (n, 1)))


def test_layout_and_determinism(photos):
    s = synthetic_signers(photos, 3, seed=7)
    assert len(s) == 3 * len(photos)
    assert (s.labels == np.tile(photos.labels, 3)).all() and (s.groups == np.tile(photos.groups, 3)).all()
    assert all(src.endswith(("#synth0", "#synth1", "#synth2")) for src in s.sources)
    assert np.isfinite(s.keypoints).all() and np.isfinite(s.keypoints3d).all()
    again = synthetic_signers(photos, 3, seed=7)
    np.testing.assert_array_equal(again.keypoints, s.keypoints)
    assert not np.allclose(synthetic_signers(photos, 3, seed=8).keypoints, s.keypoints)
    assert len(synthetic_signers(photos, 0, seed=0)) == 0
    with pytest.raises(InputError, match="n must be"):
        synthetic_signers(photos, -1)


def test_retargeting_keeps_the_pose(photos):
    # proportions only (no spread, view or noise): every bone keeps its direction, so the joint
    # angles seen in the image are kept exactly
    p = SynthParams(spread=0.0, roll=0.0, pitch=0.0, yaw=0.0, noise=0.0, distance=(1e9, 1e9), palm_width=0.0)
    s = synthetic_signers(photos, 2, seed=1, params=p)
    names = feature_names()
    ang = [i for i, n in enumerate(names) if n.startswith("ang2")]
    x = hand_features(photos.keypoints, photos.keypoints3d, photos.handedness)[:, ang]
    y = hand_features(s.keypoints, s.keypoints3d, s.handedness)[:, ang]
    np.testing.assert_allclose(y, np.tile(x, (2, 1)), atol=1e-6)
    # ...while the proportions change
    assert not np.allclose(s.keypoints, np.tile(photos.keypoints, (2, 1, 1)))


def test_views_vary_within_limits(photos):
    s = synthetic_signers(photos, 4, seed=3)
    names = feature_names()
    i = names.index("orient:along_cos")
    x = hand_features(photos.keypoints, photos.keypoints3d, photos.handedness)
    y = hand_features(s.keypoints, s.keypoints3d, s.handedness)
    roll = np.degrees(np.arctan2(y[:, i + 1], y[:, i]) - np.tile(np.arctan2(x[:, i + 1], x[:, i]), 4))
    roll = (roll + 180) % 360 - 180
    assert 5 < np.std(roll) < 60
    # the hand keeps its size and place in the image, roughly
    c0 = np.tile(photos.keypoints.mean(axis=1), (4, 1))
    size = np.median(np.ptp(photos.keypoints[:, :, 1], axis=1))
    assert np.median(np.linalg.norm(s.keypoints.mean(axis=1) - c0, axis=1)) < 0.5 * size


def test_2d_only_samples(photos):
    flat = photos.subset(np.arange(len(photos)))
    object.__setattr__(flat, "keypoints3d", np.full_like(flat.keypoints3d, np.nan))
    s = synthetic_signers(flat, 2, seed=0)
    assert np.isnan(s.keypoints3d).all() and np.isfinite(s.keypoints).all()


def test_balance_classes(photos):
    b = balance_classes(photos, seed=0)
    _, counts = np.unique(b.labels, return_counts=True)
    assert len(set(counts.tolist())) == 1
    with pytest.raises(InputError):
        balance_classes(photos, per_class=0)
