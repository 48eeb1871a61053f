"""Features of tracked hands, shared by rules and learned classifiers.

:mod:`.normalize` puts keypoints into the palm's own frame; :mod:`.extract` computes finger
states, directions, distances and motion per hand per frame (vectorized numpy).
"""

from gesturekit.features.extract import *  # noqa: F403
from gesturekit.features.extract import __all__ as _extract_all

__all__ = list(_extract_all)
