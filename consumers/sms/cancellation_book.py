"""Cancelled alerts in the database: recorded once, read by the fan-out (before each page) and the dispatcher
(before each send).

Recording is one transaction: the cancellation row, and every ledger row of the alert that is only waiting
(``retry``, ``held``) marked ``cancelled`` (and its guardian fall-back cleared). Rows that may already be
at the provider (``reconcile``, ``sending``) are left to the dispatcher, which reconciles them first and
cancels only what the provider does not hold. Reminder rounds (``<alert>#rN``) are cancelled with their alert.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine, select, update

from consumers.sms.ledger import CANCELLED, HELD, RETRY, T, _insert_ignore
from consumers.sms.replies import REMINDER, base_alert
from consumers.store.sms_cancellations import SmsCancellation
from contracts.alert_cancel import AlertCancelled
from contracts.clock import Clock

CANCELLABLE = (RETRY, HELD)  # waiting, never handed to the provider: safe to stop without asking it


class CancellationBook:
    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def record(self, cancellations: Iterable[AlertCancelled]) -> int:
        """Record cancellations (a repeat changes nothing) and stop their waiting rows; returns rows stopped."""
        stopped = 0
        with self.engine.begin() as conn:
            for c in cancellations:
                _insert_ignore(conn, SmsCancellation.__table__, dict(
                    alert_id=c.alert_id, reason=c.reason[:200], source_event_id=c.source_event_id,
                    cancelled_at=c.cancelled_at, recorded_at=self.clock.now()))
                ids = (T.c.alert_id == c.alert_id) | T.c.alert_id.like(f"{_escaped(c.alert_id)}{REMINDER}%",
                                                                      escape="\\")
                stopped += conn.execute(
                    update(T).where(ids, T.c.state.in_(CANCELLABLE))
                    .values(state=CANCELLED, due_at=None, fallback_pending=False,
                            last_error=f"alert cancelled: {c.reason}"[:300],
                            updated_at=self.clock.now().timestamp())).rowcount
                conn.execute(update(T).where(ids, T.c.fallback_pending.is_(True)).values(fallback_pending=False))
        return stopped

    def cancelled(self, alert_ids: Iterable[str]) -> set[str]:
        """Which of these alert ids are cancelled (a reminder round counts as its alert)."""
        wanted = {a: base_alert(a) for a in alert_ids}
        if not wanted:
            return set()
        with self.engine.connect() as conn:
            hit = set(conn.execute(select(SmsCancellation.alert_id)
                                   .where(SmsCancellation.alert_id.in_(sorted(set(wanted.values()))))).scalars())
        return {a for a, base in wanted.items() if base in hit}

    def is_cancelled(self, alert_id: str) -> bool:
        return bool(self.cancelled([alert_id]))


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


