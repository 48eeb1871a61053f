"""The temporal engine: per-frame Detections -> GestureEvents with start/hold/update/end/pulse.

Shared by rule-based and learned classifiers, so every gesture gets debouncing, hold repeats,
release grace and cooldowns. A classifier may expose ``temporal_specs() -> dict[str,
TemporalSpec]`` to set per-gesture timing; other gestures use the engine's default spec.

(Contract fixed by the lead; the engine itself is implemented by the temporal-engine work.)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["TemporalSpec"]


@dataclass(frozen=True)
class TemporalSpec:
    """Timing of one gesture (all in seconds on the source clock).

    :param min_duration: a static detection must persist this long before ``start``.
    :param hold_interval: ``hold`` repeats at this interval while active (``0`` = no hold).
    :param update_interval: ``update`` (values changed) at most this often (``0`` = never).
    :param release: grace period without a detection before ``end``.
    :param cooldown: after ``end`` (or a ``pulse``), the gesture cannot start again for this long.
    """

    min_duration: float = 0.1
    hold_interval: float = 0.5
    update_interval: float = 0.1
    release: float = 0.2
    cooldown: float = 0.0
