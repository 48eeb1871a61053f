"""Loading the datasets a model is trained or evaluated on: label maps and group filters."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gesturekit._exceptions import InputError
from gesturekit.learn.dataset import SampleArrays, dataset_info, read_dataset
from gesturekit.learn.model import map_labels

__all__ = ["load_training_data", "filter_groups", "cap_per_class"]


def filter_groups(arrays: SampleArrays, groups: str | None = None, exclude: str | None = None) -> SampleArrays:
    """Rows whose group matches the regex ``groups`` (if given) and not ``exclude`` (if given)."""
    keep = np.ones(len(arrays), dtype=bool)
    for pattern, want in ((groups, True), (exclude, False)):
        if not pattern:
            continue
        try:
            rx = re.compile(pattern)
        except re.error as e:
            raise InputError(f"bad group pattern {pattern!r}: {e}") from None
        hit = np.array([rx.search(g) is not None for g in arrays.groups.tolist()], dtype=bool)
        keep &= hit if want else ~hit
    return arrays.subset(keep)


def cap_per_class(arrays: SampleArrays, n: int) -> SampleArrays:
    """At most ``n`` rows per class, evenly spaced through each class's rows (keeps their order)."""
    idx = []
    for c in np.unique(arrays.labels):
        rows = np.flatnonzero(arrays.labels == c)
        idx.append(rows if len(rows) <= n else rows[np.linspace(0, len(rows) - 1, n).round().astype(int)])
    return arrays.subset(np.sort(np.concatenate(idx)))


def load_training_data(paths: Sequence[str | os.PathLike], mapping: Mapping[str, str] | None = None, *,
                       only_mapped: bool = False, groups: str | None = None, exclude_groups: str | None = None,
                       max_per_class: int | None = None) -> tuple[SampleArrays, list[dict[str, Any]]]:
    """The rows of several dataset folders (labels mapped, groups filtered) and, for the model
    card, what each folder contributed: ``[{"path", "origins", "samples"}]``."""
    parts, data = [], []
    for p in paths:
        a = read_dataset(p)
        a = map_labels(a, dict(mapping or {}), keep_unmapped=not only_mapped)
        a = filter_groups(a, groups, exclude_groups)
        if max_per_class:
            a = cap_per_class(a, max_per_class)
        parts.append(a)
        data.append({"path": Path(p).name, "origins": dataset_info(p).get("origins", []), "samples": len(a)})
    arrays = SampleArrays.concat(parts) if parts else None
    if arrays is None or len(arrays) == 0:
        raise InputError("no samples left in " + ", ".join(map(str, paths)) + " (check --map/--groups)")
    return arrays, data
