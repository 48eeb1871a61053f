"""The HaGRID recipe's split: person-disjoint, repeated rows dropped, no photo on both sides."""

from __future__ import annotations

import numpy as np
import pytest

from gesturekit.learn.dataset import SampleArrays
from gesturekit.learn.recipes import dedupe, hagrid_split


def _arrays(groups, sources, labels) -> SampleArrays:
    n = len(groups)
    kp = np.random.default_rng(0).normal(size=(n, 21, 2))
    return SampleArrays(labels=np.array(labels), keypoints=kp, keypoints3d=np.full((n, 21, 3), np.nan),
                        handedness=np.array(["right"] * n), groups=np.array(groups), sources=np.array(sources),
                        frames=np.zeros(n, dtype=np.int64), sizes=np.zeros((n, 2), dtype=np.int64))


def test_split_is_by_person_and_drops_repeats():
    a = _arrays(["train:a.jpg", "train:b.jpg", "u1", "u2"], ["a.jpg", "b.jpg", "c.jpg", "d.jpg"],
                ["like", "fist", "like", "fist"])
    twice = SampleArrays.concat([a, a])  # a dataset folder two imports appended to
    assert len(dedupe(twice)) == 4
    train, test = hagrid_split(twice)
    assert sorted(train.sources) == ["a.jpg", "b.jpg"] and sorted(test.sources) == ["c.jpg", "d.jpg"]


def test_a_photo_on_both_sides_is_refused():
    a = _arrays(["train:a.jpg", "u1"], ["a.jpg", "a.jpg"], ["like", "fist"])
    with pytest.raises(ValueError, match="both sides"):
        hagrid_split(a)
