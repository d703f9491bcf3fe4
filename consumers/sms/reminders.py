""""Resend to those who have not acknowledged": a new reminder round of an alert that asked for an ack.

A round is an alert of its own (``<alert>#r<n>``) with its own reference in the body, so the ledger's
one-message-per-(alert, recipient) rule holds per round and running the same round twice sends nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, and_, func, select

from alerts.body_rules import CHINA_GUIDANCE, BodyRules
from consumers.directory.audience import Recipient
from consumers.sms.compose import AlertBodies
from consumers.sms.errors import UnknownAlert
from consumers.sms.fanout import JobSink, build_job
from consumers.sms.jobs import job_event
from consumers.sms.ledger import T
from consumers.sms.replies import REMINDER
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert
from contracts.alert_request import AlertRequested
from contracts.clock import Clock
from contracts.sms import SmsJob


@dataclass(frozen=True)
class ReminderRound:
    alert_id: str
    round_alert_id: str
    reminded: int


def resend_unacknowledged(engine: Engine, sink: JobSink, clock: Clock, alert_id: str,
                          round_no: int | None = None, rules: BodyRules = CHINA_GUIDANCE) -> ReminderRound:
    with engine.begin() as conn:
        raw = conn.execute(select(SmsAlert.request_json).where(SmsAlert.alert_id == alert_id)).scalar()
        if raw is None:
            raise UnknownAlert(f"alert_id: no alert {alert_id!r} in the SMS ledger")
        alert = AlertRequested.model_validate_json(raw)
        if not alert.requires_ack:
            raise UnknownAlert(f"alert_id: alert {alert_id!r} did not ask for acknowledgement")
        if round_no is None:
            rounds = conn.execute(select(func.count()).where(SmsAlert.alert_id.like(f"{alert_id}{REMINDER}%"))).scalar()
            round_no = rounds + 1
        reminder = alert.model_copy(update={"alert_id": f"{alert_id}{REMINDER}{round_no}"})
        if conn.execute(select(SmsAlert.alert_id).where(SmsAlert.alert_id == reminder.alert_id)).first() is None:
            conn.execute(SmsAlert.__table__.insert().values(
                alert_id=reminder.alert_id, request_json=reminder.model_dump_json(), requires_ack=True,
                fanout_cursor=None, fanout_done=True, jobs_emitted=0, created_at=clock.now()))
        pending = conn.execute(
            select(T.c.job_json).outerjoin(SmsAcknowledgement, and_(SmsAcknowledgement.alert_id == alert_id,
                                                                   SmsAcknowledgement.recipient_id == T.c.recipient_id))
            .where(T.c.alert_id == alert_id, T.c.sid.is_not(None), SmsAcknowledgement.alert_id.is_(None))
            .order_by(T.c.id)).scalars().all()
    bodies, sent = AlertBodies(reminder, rules), 0
    for job_json in pending:
        job = SmsJob.model_validate_json(job_json)
        recipient = Recipient(job.recipient_id, job.to, job.language.value, job.contact_order)
        again = build_job(reminder, recipient, bodies)
        sink.send(job.recipient_id.encode(), job_event(again, correlationid=None, time=clock.now()).to_bytes())
        sent += 1
    sink.flush()
    return ReminderRound(alert_id, reminder.alert_id, sent)
