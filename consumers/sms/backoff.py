"""Retry timing for transient send failures: exponential backoff with jitter, capped, with a give-up point."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_s: float = 1.0
    cap_s: float = 300.0
    max_attempts: int = 10

    def delay(self, attempt: int, rng: random.Random) -> float:
        """Seconds before attempt ``attempt + 1``: half fixed, half random ("equal jitter"), so a burst of
        429s from the provider does not come back as one synchronised burst."""
        ceiling = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        return ceiling / 2 + rng.uniform(0, ceiling / 2)

    def exhausted(self, attempt: int) -> bool:
        return attempt >= self.max_attempts
