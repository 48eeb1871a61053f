"""One exponential backoff, used wherever something is retried (sinks, sources, the bus)."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Backoff"]


@dataclass
class Backoff:
    """Delays ``initial, initial*factor, ...`` capped at ``maximum``, with optional jitter.

    ``delay = backoff.next()`` gives the wait before the next try; :meth:`reset` after a success.

    :param jitter: each delay is multiplied by a random factor in ``[1 - jitter, 1]`` so that
        many clients do not retry in lockstep.
    """

    initial: float = 0.5
    maximum: float = 8.0
    factor: float = 2.0
    jitter: float = 0.0
    attempts: int = field(default=0, init=False)

    def next(self) -> float:
        """The delay before the next attempt (and count the attempt)."""
        d = min(self.maximum, self.initial * self.factor ** self.attempts)
        self.attempts += 1
        if self.jitter:
            d *= 1.0 - random.random() * self.jitter
        return d

    def peek(self) -> float:
        """The delay :meth:`next` will return (without jitter), for log messages."""
        return min(self.maximum, self.initial * self.factor ** self.attempts)

    def reset(self) -> None:
        """Start again from ``initial`` (after a success)."""
        self.attempts = 0
