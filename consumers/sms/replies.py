"""Inbound SMS: opt-out and opt-in keywords, and acknowledgements of alerts that asked for one."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from consumers.sms.ledger import T, set_opt_out
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert
from contracts.clock import Clock

STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "退订", "TD"})
START_WORDS = frozenset({"START", "UNSTOP", "订阅"})
ACK_WORDS = frozenset({"1", "收到", "OK", "YES", "ACK"})
REMINDER = "#r"


def base_alert(alert_id: str) -> str:
    """A reminder round (``<alert>#r1``) acknowledges the alert it repeats."""
    return alert_id.split(REMINDER, 1)[0]


@dataclass(frozen=True)
class ReplyHandled:
    action: str  # opt_out | opt_in | ack | ack_nothing_pending | ignored
    alert_id: str | None = None


def handle_reply(engine: Engine, clock: Clock, from_number: str, body: str) -> ReplyHandled:
    word = body.strip().strip("。.!！").upper()
    if word in STOP_WORDS:
        set_opt_out(engine, from_number, "inbound_stop", clock)
        return ReplyHandled("opt_out")
    if word in START_WORDS:
        set_opt_out(engine, from_number, "inbound_start", clock, opted_out=False)
        return ReplyHandled("opt_in")
    if word in ACK_WORDS:
        return _acknowledge(engine, clock, from_number, body.strip())
    return ReplyHandled("ignored")


def _acknowledge(engine: Engine, clock: Clock, phone: str, body: str) -> ReplyHandled:
    """The newest alert sent to this number that asks for an acknowledgement is the one acknowledged."""
    with engine.begin() as conn:
        rows = conn.execute(select(T.c.alert_id, T.c.recipient_id).where(T.c.phone == phone, T.c.sid.is_not(None))
                            .order_by(T.c.created_at.desc(), T.c.id.desc()).limit(20)).all()
        for alert_id, recipient_id in rows:
            wanted = conn.execute(select(SmsAlert.requires_ack).where(SmsAlert.alert_id == base_alert(alert_id))).scalar()
            if wanted:
                dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
                conn.execute(dialect.insert(SmsAcknowledgement.__table__).values(
                    alert_id=base_alert(alert_id), recipient_id=recipient_id, phone=phone, body=body[:160],
                    received_at=clock.now()).on_conflict_do_nothing())
                return ReplyHandled("ack", base_alert(alert_id))
    return ReplyHandled("ack_nothing_pending")
