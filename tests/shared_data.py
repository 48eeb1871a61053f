"""The one place tests find the shared data set (``../shared/data`` by default).

Set ``GESTUREKIT_DATA`` to point elsewhere. A missing file fails the test with a clear message
(never a silent skip): CI must run every test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def data_root() -> Path:
    return Path(os.environ.get("GESTUREKIT_DATA", REPO.parent / "shared" / "data")).resolve()


def data_file(rel: str) -> Path:
    """Absolute path of ``rel`` inside the shared data folder; fails the test if it is missing."""
    p = data_root() / rel
    if not p.exists():
        pytest.fail(f"shared test data missing: {p} (set GESTUREKIT_DATA to the shared data folder)", pytrace=False)
    return p
