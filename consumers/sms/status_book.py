"""Status callbacks applied to the ledger: deduplicated by (MessageSid, status), never moving a status back.

An undelivered or failed message to a guardian hands over to the next guardian when the alerts policy
says so (guaranteed reach, emergencies); the dispatcher emits that fallback job.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects import postgresql, sqlite

from alerts.policy import after_refusal
from consumers.sms.ledger import ACCEPTED, FINAL, T
from consumers.store.directory import OptOut
from consumers.store.sms_ledger import SmsCallbackToken
from contracts.clock import Clock
from contracts.sms import SmsJob

RANK = {"accepted": 0, "queued": 0, "sending": 1, "sent": 2, "delivered": 3, "undelivered": 3, "failed": 3}
NOT_DELIVERED = ("undelivered", "failed")


@dataclass(frozen=True)
class StatusApplied:
    outcome: str  # applied | duplicate | stale | unknown
    fallback: bool = False
    requested_at: datetime | None = None  # of the alert, for the delivery-latency metric


class StatusBook:
    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def apply(self, *, marker: str | None, sid: str | None, status: str, error_code: int | None,
              token: str | None = None) -> StatusApplied:
        """Apply one callback once per (MessageSid, status) — the provider's retries and a replayed signed
        callback alike (its unsigned idempotency header is not trusted for that)."""
        try:
            with self.engine.begin() as conn:
                return self._apply(conn, marker=marker, sid=sid, status=status, error_code=error_code,
                                   dedup=f"{sid}:{status}" if sid else token)
        except _AlreadyApplied:
            return StatusApplied("duplicate")

    def _apply(self, conn, *, marker, sid, status, error_code, dedup) -> StatusApplied:
        dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
        table = SmsCallbackToken.__table__
        if dedup and conn.execute(select(table.c.token).where(table.c.token == f"sid:{dedup}"[:200])).first():
            return StatusApplied("duplicate")
        where = T.c.marker == marker if marker else T.c.sid == sid
        row = conn.execute(select(T.c.id, T.c.state, T.c.sid, T.c.provider_status, T.c.job_json)
                           .where(where)).first()
        if row is None:
            return StatusApplied("unknown")  # not recorded as applied: the status consumer may meet it later
        if RANK.get(status, 0) < RANK.get(row.provider_status or "queued", 0) or \
                (row.provider_status in NOT_DELIVERED + ("delivered",)):
            return StatusApplied("stale")
        values = dict(provider_status=status, updated_at=self.clock.now().timestamp())
        if row.state not in FINAL:  # the callback proves the provider accepted it
            values.update(state=ACCEPTED, sid=sid or row.sid, lease_until=None)
        fallback = False
        if status in NOT_DELIVERED:
            job = SmsJob.model_validate_json(row.job_json)
            refusal = after_refusal(job.priority, error_code, guaranteed_reach=job.guaranteed_reach)
            fallback = refusal.try_next_contact and job.recipient_id.startswith("g:")
            values.update(error_code=error_code, last_error=refusal.reason, fallback_pending=fallback)
            if refusal.record_opt_out:
                conn.execute(dialect.insert(OptOut.__table__).values(
                    phone=job.to, source="provider_21610", opted_out_at=self.clock.now()).on_conflict_do_nothing())
        conn.execute(update(T).where(T.c.id == row.id).values(**values))
        if dedup and conn.execute(dialect.insert(table).values(token=f"sid:{dedup}"[:200], received_at=self.clock.now())
                                  .on_conflict_do_nothing().returning(table.c.token)).first() is None:
            raise _AlreadyApplied  # applied concurrently by the other path: roll this one back
        return StatusApplied("applied", fallback, SmsJob.model_validate_json(row.job_json).requested_at)


class _AlreadyApplied(Exception):
    """Another applier recorded the same (MessageSid, status) first; this transaction is rolled back."""
