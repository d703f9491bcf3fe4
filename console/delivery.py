"""Delivery of one CAP thread, from the SMS ledger and the status callbacks it records: recipients, accepted,
delivered, failed by reason, opted out, acknowledged; a timeline for the chart; a CSV with masked numbers; and
"resend to those who have not acknowledged" through the CLI's own code (consumers/sms/reminders.py)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from consumers.directory.audience import pages
from consumers.sms.ledger import ACCEPTED, EXPIRED, FAILED, REFUSED, SKIPPED
from consumers.sms.replies import REMINDER
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert, SmsLedgerEntry
from contracts.alert_request import SchoolList
from contracts.cap.sms import thread_alert_prefix

T = SmsLedgerEntry.__table__
FAILED_STATES = (REFUSED, FAILED, EXPIRED)
FAILED_PROVIDER = ("failed", "undelivered")
OPT_OUT_CODE = 21610
REASONS = {  # Twilio error codes (DOMAIN.md "SMS") → (zh-CN, en)
    21211: ("号码无效", "invalid number"), 21610: ("已退订", "unsubscribed"), 21614: ("非手机号码", "not a mobile"),
    30003: ("手机不可达", "handset unreachable"), 30004: ("被拦截", "blocked"), 30005: ("号码不存在", "unknown number"),
    30006: ("固定电话", "landline"), 30007: ("运营商过滤", "carrier filtered"), 30008: ("未知错误", "unknown error"),
    30036: ("排队超时", "validity period expired"),
}


@dataclass
class Delivery:
    recipients: int = 0
    accepted: int = 0
    delivered: int = 0
    failed: int = 0
    failed_by_reason: dict[str, int] = field(default_factory=dict)
    opted_out: int = 0
    acknowledged: int = 0
    waiting: int = 0  # not yet at the provider (sending, retry, held)
    requires_ack: bool = False
    reminded: int = 0

    @property
    def settled(self) -> int:
        return self.delivered + self.failed + self.opted_out


def thread_ids(conn, root: str) -> tuple[list[str], list[str]]:
    """(the thread's alert requests, their reminder rounds), from ``sms_alerts`` (one row per alert, so the
    prefix match stays small); the ledger is then read by ``alert_id IN (…)`` on its (alert, recipient) index."""
    ids = list(conn.execute(select(SmsAlert.alert_id).where(SmsAlert.alert_id.like(f"{thread_alert_prefix(root)}%"))
                            .order_by(SmsAlert.alert_id)).scalars())
    return [i for i in ids if REMINDER not in i], [i for i in ids if REMINDER in i]


def reason_label(code: int | None, lang: str) -> str:
    pair = REASONS.get(code or 0)
    if pair is None:
        return f"{'其他' if lang != 'en' else 'other'}{f' ({code})' if code else ''}"
    return f"{pair[0] if lang != 'en' else pair[1]} ({code})"


def delivery(engine: Engine, root: str, lang: str) -> Delivery:
    """Counts of the thread's first messages (reminder rounds are counted in ``reminded``)."""
    d, reasons = Delivery(), Counter()
    with engine.connect() as conn:
        firsts, reminders = thread_ids(conn, root)
        rows = conn.execute(select(T.c.state, T.c.provider_status, T.c.error_code, T.c.sid)
                            .where(T.c.alert_id.in_(firsts))).all() if firsts else []
        d.acknowledged = len(set(conn.execute(select(SmsAcknowledgement.recipient_id)
                                              .where(SmsAcknowledgement.alert_id.in_(firsts))).scalars()))
        d.requires_ack = bool(firsts) and bool(conn.execute(select(SmsAlert.alert_id).where(
            SmsAlert.alert_id.in_(firsts), SmsAlert.requires_ack.is_(True)).limit(1)).first())
        d.reminded = conn.execute(select(func.count()).select_from(T).where(T.c.alert_id.in_(reminders))).scalar() \
            if reminders else 0
    for state, provider, code, sid in rows:
        d.recipients += 1
        if state == SKIPPED or code == OPT_OUT_CODE:
            d.opted_out += 1
            continue
        if sid is not None or state == ACCEPTED:
            d.accepted += 1
        if provider == "delivered":
            d.delivered += 1
        elif state in FAILED_STATES or provider in FAILED_PROVIDER:
            d.failed += 1
            reasons[reason_label(code, lang)] += 1
        elif state != ACCEPTED:
            d.waiting += 1
    d.failed_by_reason = dict(reasons.most_common())
    return d


def timeline(engine: Engine, root: str, buckets: int = 30) -> dict:
    """Cumulative counts over time (epoch seconds): queued (ledger row written), accepted, delivered, failed;
    a settled row counts from its last update, which is when its callback landed."""
    with engine.connect() as conn:
        firsts, _ = thread_ids(conn, root)
        rows = conn.execute(select(T.c.created_at, T.c.updated_at, T.c.state, T.c.provider_status, T.c.sid)
                            .where(T.c.alert_id.in_(firsts))).all() if firsts else []
    if not rows:
        return {"t": [], "queued": [], "accepted": [], "delivered": [], "failed": []}
    start = min(r.created_at for r in rows)
    end = max(max(r.updated_at for r in rows), start + 1)
    step = (end - start) / buckets
    edges = [start + step * (i + 1) for i in range(buckets)]

    def series(times: list[float]) -> list[int]:
        times.sort()
        out, n = [], 0
        for edge in edges:
            while n < len(times) and times[n] <= edge + 1e-9:
                n += 1
            out.append(n)
        return out

    return {"t": [round(e - start, 1) for e in edges],
            "queued": series([r.created_at for r in rows]),
            "accepted": series([r.updated_at for r in rows if r.sid is not None]),
            "delivered": series([r.updated_at for r in rows if r.provider_status == "delivered"]),
            "failed": series([r.updated_at for r in rows if r.state in FAILED_STATES
                              or r.provider_status in FAILED_PROVIDER])}


def mask(phone: str) -> str:
    """+8619900010001 → +86199****0001: enough to tell rows apart, not enough to call anyone."""
    if len(phone) <= 8:
        return "*" * len(phone)
    keep = 6 if len(phone) > 11 else 3
    return phone[:keep] + "*" * (len(phone) - keep - 4) + phone[-4:]


def csv_rows(engine: Engine, root: str, lang: str) -> str:
    with engine.connect() as conn:
        firsts, reminders = thread_ids(conn, root)
        rows = conn.execute(select(T.c.alert_id, T.c.recipient_id, T.c.phone, T.c.state, T.c.provider_status,
                                   T.c.error_code, T.c.attempts, T.c.updated_at)
                            .where(T.c.alert_id.in_(firsts + reminders)).order_by(T.c.id)).all()
        acked = set(conn.execute(select(SmsAcknowledgement.recipient_id)
                                 .where(SmsAcknowledgement.alert_id.in_(firsts))).scalars())
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["alert_id", "recipient", "phone_masked", "state", "provider_status", "failure_reason",
                     "attempts", "acknowledged"])
    for r in rows:
        failed = r.state in FAILED_STATES or r.provider_status in FAILED_PROVIDER
        writer.writerow([r.alert_id, r.recipient_id.split(":")[0], mask(r.phone), r.state, r.provider_status or "",
                         reason_label(r.error_code, lang) if failed else "", r.attempts,
                         "yes" if r.recipient_id in acked else "no"])
    return out.getvalue()


def thread_alert_ids(engine: Engine, root: str) -> list[str]:
    """The alert requests the streams agent issued for the thread (not the reminder rounds)."""
    with engine.connect() as conn:
        return thread_ids(conn, root)[0]


def audience_count(engine: Engine, school_ids: list[str]) -> int:
    """How many SMS the fan-out will send for these schools (contacts and each child's first guardian; the CAP
    agent asks for guaranteed reach), counted with the fan-out's own selector queries."""
    total = 0
    for i in range(0, len(school_ids), 1000):
        selector = SchoolList(school_ids=school_ids[i:i + 1000])
        total += sum(len(page) for page, _ in pages(engine, selector, guaranteed_reach=True))
    return total


