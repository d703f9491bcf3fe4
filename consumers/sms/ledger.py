"""The SMS ledger's operations: claim before sending, settle after, find due retries, apply callbacks.

A row is claimed (state ``sending`` with a lease) before the provider is called. A row whose lease ran
out while ``sending`` belonged to a dispatcher that died mid-send: it is reconciled, never blindly resent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Boolean, Engine, and_, bindparam, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from consumers.directory.districts import recipient_districts
from consumers.sms.jobs import job_marker
from consumers.store.directory import OptOut
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.clock import Clock
from contracts.sms import SmsJob

SENDING, ACCEPTED, RETRY, RECONCILE, HELD = "sending", "accepted", "retry", "reconcile", "held"
REFUSED, SKIPPED, EXPIRED, FAILED = "refused", "skipped", "expired", "failed"
CANCELLED = "cancelled"  # its alert was cancelled before the message reached the provider: never sent
WAITING = (RETRY, RECONCILE, HELD)
FINAL = (ACCEPTED, REFUSED, SKIPPED, EXPIRED, FAILED, CANCELLED)
T = SmsLedgerEntry.__table__


@dataclass(frozen=True)
class Claim:
    """A job this dispatcher now owns; ``reconcile`` means the provider may already hold the message."""

    row_id: int
    job: SmsJob
    marker: str
    attempts: int
    created_at: float
    reconcile: bool = False
    owner: str = ""  # this claim's token (dispatcher id + claim round): a later claim of the row has another


@dataclass(frozen=True)
class Outcome:
    row_id: int
    state: str
    sid: str | None = None
    provider_status: str | None = None
    due_at: float | None = None
    error_code: int | None = None
    last_error: str | None = None
    fallback: bool = False
    attempted: bool = False  # the provider was called: count an attempt
    opt_out_phone: str | None = None


class SmsLedger:
    def __init__(self, engine: Engine, clock: Clock):
        self.engine, self.clock = engine, clock

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def claim_new(self, jobs: Iterable[SmsJob], owner: str, lease_s: float,
                  cancelled: set[str] = frozenset()) -> list[Claim]:
        """Insert each job as ``sending``; a job whose (alert, recipient) is already there is skipped.
        Jobs of ``cancelled`` alerts are recorded as ``cancelled`` and not claimed (never sent)."""
        now, rows = self._now(), {}
        for job in jobs:
            stopped = job.alert_id in cancelled
            rows.setdefault(job.dedup_key, dict(
                dedup_key=job.dedup_key, alert_id=job.alert_id, recipient_id=job.recipient_id,
                marker=job_marker(job.dedup_key), phone=job.to, state=CANCELLED if stopped else SENDING, attempts=0,
                due_at=None, lease_until=None if stopped else now + lease_s, owner=owner, fallback_pending=False,
                job_json=job.model_dump_json(), created_at=now, updated_at=now,
                last_error="alert cancelled before this job arrived" if stopped else None))
        if not rows:
            return []
        by_key = {job.dedup_key: job for job in jobs}
        with self.engine.begin() as conn:
            dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
            stmt = (dialect.insert(T).on_conflict_do_nothing()
                    .returning(T.c.id, T.c.dedup_key, T.c.marker, T.c.state))
            districts = recipient_districts(conn, {r["recipient_id"] for r in rows.values()})  # for the indicators
            inserted = conn.execute(stmt, [dict(r, district_code=districts.get(r["recipient_id"]))
                                           for r in rows.values()]).all()
        return [Claim(r[0], by_key[r[1]], r[2], 0, now, owner=owner) for r in inserted if r[3] == SENDING]

    def claim_due(self, owner: str, lease_s: float, limit: int = 500) -> list[Claim]:
        """Take rows whose wait is over, and ``sending`` rows whose owner's lease ran out (to reconcile)."""
        now = self._now()
        due = or_(and_(T.c.state.in_(WAITING), T.c.due_at <= now), and_(T.c.state == SENDING, T.c.lease_until < now))
        claims = []
        with self.engine.begin() as conn:
            rows = conn.execute(select(T.c.id, T.c.state, T.c.lease_until, T.c.job_json, T.c.marker, T.c.attempts,
                                       T.c.created_at).where(due).order_by(T.c.due_at).limit(limit)).all()
            for row in rows:
                guard = T.c.lease_until == row.lease_until if row.lease_until is not None else T.c.lease_until.is_(None)
                taken = conn.execute(update(T).where(T.c.id == row.id, T.c.state == row.state, guard)
                                     .values(state=SENDING, owner=owner, lease_until=now + lease_s, updated_at=now))
                if taken.rowcount == 1:
                    claims.append(Claim(row.id, SmsJob.model_validate_json(row.job_json), row.marker, row.attempts,
                                        row.created_at, reconcile=row.state in (RECONCILE, SENDING), owner=owner))
        return claims

    def renew(self, row_id: int, owner: str, lease_s: float) -> bool:
        """Right before a send: keep the claim only if it is still ours and its lease has not run out (then
        extend it). False means another dispatcher may have taken the row over: do not send."""
        now = self._now()
        with self.engine.begin() as conn:
            kept = conn.execute(update(T).where(T.c.id == row_id, T.c.owner == owner, T.c.state == SENDING,
                                                T.c.lease_until >= now)
                                .values(lease_until=now + lease_s, updated_at=now))
        return kept.rowcount == 1

    def settle(self, outcomes: list[Outcome], owners: dict[int, str] | None = None) -> None:
        """Record what happened to claimed rows, and the opt-outs the provider reported, in one transaction.
        With ``owners`` (row id → claim token), a row claimed again since (by anyone) is left to that claim."""
        if not outcomes:
            return
        now = self._now()
        params = [dict(rid=o.row_id, b_owner=(owners or {}).get(o.row_id), state=o.state, sid=o.sid, pstatus=o.provider_status, due=o.due_at,
                       code=o.error_code, err=(o.last_error or None) and o.last_error[:300], fb=o.fallback,
                       inc=1 if o.attempted else 0, now=now) for o in outcomes]
        keep = func.coalesce  # a status callback may have landed first: never erase what it recorded
        mine = or_(bindparam("b_owner", type_=T.c.owner.type).is_(None), T.c.owner == bindparam("b_owner"))
        stmt = (update(T).where(T.c.id == bindparam("rid"), mine)
                .values(state=bindparam("state"), sid=keep(bindparam("sid"), T.c.sid),
                        provider_status=keep(T.c.provider_status, bindparam("pstatus")), due_at=bindparam("due"),
                        error_code=keep(bindparam("code"), T.c.error_code), last_error=keep(bindparam("err"), T.c.last_error),
                        fallback_pending=or_(T.c.fallback_pending, bindparam("fb", type_=Boolean)),
                        attempts=T.c.attempts + bindparam("inc"), lease_until=None, updated_at=bindparam("now")))
        with self.engine.begin() as conn:
            conn.execute(stmt, params)
            for phone in {o.opt_out_phone for o in outcomes if o.opt_out_phone}:
                _insert_ignore(conn, OptOut.__table__, dict(phone=phone, source="provider_21610",
                                                            opted_out_at=self.clock.now()))

    def opted_out(self, phones: set[str]) -> set[str]:
        if not phones:
            return set()
        with self.engine.connect() as conn:
            return set(conn.execute(select(OptOut.phone).where(OptOut.phone.in_(sorted(phones)))).scalars())

    def fallback_rows(self, limit: int = 200) -> list[tuple[int, SmsJob]]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(T.c.id, T.c.job_json).where(T.c.fallback_pending.is_(True)).limit(limit)).all()
        return [(r[0], SmsJob.model_validate_json(r[1])) for r in rows]

    def clear_fallback(self, row_ids: list[int]) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(T).where(T.c.id.in_(row_ids)).values(fallback_pending=False))

    def counts(self, alert_id: str | None = None) -> dict[str, int]:
        query = select(T.c.state, func.count()).group_by(T.c.state)
        if alert_id:
            query = query.where(T.c.alert_id == alert_id)
        with self.engine.connect() as conn:
            return dict(conn.execute(query).all())


def _insert_ignore(conn, table, values: dict) -> None:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    conn.execute(dialect.insert(table).values(**values).on_conflict_do_nothing())


def set_opt_out(engine: Engine, phone: str, source: str, clock: Clock, opted_out: bool = True) -> None:
    with engine.begin() as conn:
        if opted_out:
            _insert_ignore(conn, OptOut.__table__, dict(phone=phone, source=source, opted_out_at=clock.now()))
        else:
            conn.execute(delete(OptOut).where(OptOut.phone == phone))
