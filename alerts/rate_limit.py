"""A per-provider token bucket: at most ``rate`` messages per second on average, bursts up to ``burst``.

It never sleeps: callers ask how long to wait and wait their own way (tests move a FakeClock).
"""

from __future__ import annotations

import threading

from contracts.clock import Clock


class TokenBucket:
    def __init__(self, rate: float, clock: Clock, burst: float | None = None):
        if rate <= 0:
            raise ValueError(f"rate: must be > 0 messages/s (got {rate})")
        self.rate = float(rate)
        self.burst = float(burst if burst is not None else max(1.0, rate))
        self._clock = clock
        self._tokens = self.burst
        self._last = self._clock.monotonic()
        self._lock = threading.Lock()

    def _refill(self) -> None:
        now = self._clock.monotonic()
        self._tokens = min(self.burst, self._tokens + (now - self._last) * self.rate)
        self._last = now

    def try_acquire(self, n: float = 1.0) -> bool:
        """Take ``n`` tokens if they are there now."""
        with self._lock:
            self._refill()
            if self._tokens >= n:
                self._tokens -= n
                return True
            return False

    def reserve(self, n: float = 1.0) -> float:
        """Take ``n`` tokens now or in the future; returns the seconds to wait before sending (0 = now).
        Reservations queue fairly: the next caller waits behind this one."""
        with self._lock:
            self._refill()
            self._tokens -= n
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def available(self) -> float:
        with self._lock:
            self._refill()
            return self._tokens
