"""The provider's rate limit shared by every dispatcher: one schedule row per sending number in the database.

Each send reserves the next slot with one conditional UPDATE … RETURNING (GCRA, "virtual scheduling"):
``next_at = max(next_at, now - burst_window) + 1/rate``; the caller waits until its slot. The row lock
(PostgreSQL) or the write lock (SQLite) serialises reservations, so N dispatchers together hold ``rate``
messages/s per number, not N × rate. Slots are epoch seconds from the injected clock, so every process
must share a wall clock (NTP); a process that crashed after reserving only leaves a gap in the schedule.
"""

from __future__ import annotations

from sqlalchemy import Engine, case, update

from consumers.sms.ledger import _insert_ignore
from consumers.store.sms_rate import SmsRateSlot
from contracts.clock import Clock

T = SmsRateSlot.__table__


class SharedRateLimit:
    def __init__(self, engine: Engine, sender: str, rate: float, clock: Clock, burst: float = 1.0):
        if rate <= 0:
            raise ValueError(f"rate: must be > 0 messages/s (got {rate})")
        if burst < 1:
            raise ValueError(f"burst: must be >= 1 message (got {burst})")
        self.engine, self.sender, self.clock = engine, sender, clock
        self.interval = 1.0 / rate
        self.window = (burst - 1.0) * self.interval  # how far the schedule may lag behind now (a burst's credit)
        self._created = False

    def reserve(self) -> float:
        """Take the next slot of this sender's schedule; returns the seconds to wait before sending (0 = now)."""
        now = self.clock.now().timestamp()
        return max(0.0, self.reserve_many(1)[0] - now)

    def reserve_many(self, n: int) -> list[float]:
        """Take the next ``n`` slots in one reservation (one row-lock hold for a whole round of sends, instead of
        one per send: the lock serialised every dispatcher's sends); returns each slot's time (epoch seconds)."""
        if n <= 0:
            return []
        now = self.clock.now().timestamp()
        floor = now - self.window
        with self.engine.begin() as conn:
            if not self._created:
                _insert_ignore(conn, T, dict(sender=self.sender, next_at=floor))
            slot = case((T.c.next_at > floor, T.c.next_at), else_=floor)
            start = conn.execute(update(T).where(T.c.sender == self.sender).values(next_at=slot + n * self.interval)
                                 .returning(T.c.next_at)).scalar_one() - n * self.interval
        self._created = True
        return [start + i * self.interval for i in range(n)]
