"""Time as a dependency: production reads the system clock, tests move a fake one (no sleeping)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, for measuring intervals and backoff."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        import time

        return time.monotonic()


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, start: datetime | None = None):
        self._now = start or datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
        self._mono = 0.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, delta: timedelta | float) -> None:
        seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
        self._now += timedelta(seconds=seconds)
        self._mono += seconds
