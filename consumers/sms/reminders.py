""""Resend to those who have not acknowledged": a new reminder round of an alert that asked for an ack.

A round is an alert of its own (``<alert>#r<n>``) with its own reference in the body, so the ledger's
one-message-per-(alert, recipient) rule holds per round and running the same round twice sends nothing new.

The rules (the CLI's ``childsafe sms resend-unacknowledged`` and the console's button alike), each refusal a
``ResendRefused`` naming its rule: the alert must exist and have asked for acknowledgement; it must not be
cancelled; the last message (the alert or its latest round) must be at least ``ReminderPolicy.min_wait`` old, so
people get time to answer; at most ``max_rounds`` rounds; a caller that says which mode it means (exercise or
actual) must mean the alert's own (a drill's reminder is a drill, an actual alert's never is); and somebody who
received it must still owe an acknowledgement. A round with a number given explicitly (``--round``) repeats that
round: only the too-early and round-count rules are skipped, so an interrupted round can be finished.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, and_, select

from alerts.body_rules import CHINA_GUIDANCE, BodyRules
from consumers.directory.audience import Recipient
from consumers.sms.compose import AlertBodies
from consumers.sms.errors import ResendRefused, UnknownAlert
from consumers.sms.fanout import JobSink, build_job
from consumers.sms.jobs import job_event
from consumers.sms.ledger import T
from consumers.sms.replies import REMINDER
from consumers.store.sms_cancellations import SmsCancellation
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert
from contracts.alert_request import AlertRequested
from contracts.clock import Clock
from contracts.sms import SmsJob


@dataclass(frozen=True)
class ReminderPolicy:
    """How often a reminder round may go out (DOMAIN.md gives no number: these are the system's defaults,
    ``CHILDSAFE_SMS_REMINDER_MIN_WAIT_S`` and ``CHILDSAFE_SMS_REMINDER_MAX_ROUNDS``)."""

    min_wait: timedelta = timedelta(minutes=10)
    max_rounds: int = 3


@dataclass(frozen=True)
class ReminderRound:
    alert_id: str
    round_alert_id: str
    reminded: int


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _mode(exercise: bool) -> str:
    return "an exercise" if exercise else "an actual alert"


def _check(conn, alert_id: str, alert: AlertRequested, clock: Clock, policy: ReminderPolicy,
           exercise: bool | None, explicit: bool) -> int:
    """Apply the rules; returns how many rounds went out before."""
    if not alert.requires_ack:
        raise ResendRefused("no_ack", f"alert_id: alert {alert_id!r} did not ask for acknowledgement, so nobody "
                                      "owes one; nothing was resent")
    if exercise is not None and exercise != alert.exercise:
        raise ResendRefused("mode", f"alert_id: alert {alert_id!r} is {_mode(alert.exercise)}, not "
                                    f"{_mode(exercise)}: exercise and actual are never mixed; nothing was resent")
    cancelled = conn.execute(select(SmsCancellation.cancelled_at, SmsCancellation.reason)
                             .where(SmsCancellation.alert_id == alert_id)).first()
    if cancelled is not None:
        raise ResendRefused("cancelled", f"alert_id: alert {alert_id!r} was cancelled at "
                                         f"{_aware(cancelled.cancelled_at).isoformat()} ({cancelled.reason}); "
                                         "nothing was resent")
    rounds = conn.execute(select(SmsAlert.created_at).where(SmsAlert.alert_id.like(f"{alert_id}{REMINDER}%"))
                          ).scalars().all()
    if explicit:
        return len(rounds)
    if len(rounds) >= policy.max_rounds:
        raise ResendRefused("too_many_rounds", f"alert_id: alert {alert_id!r} already had {len(rounds)} reminder "
                                               f"round(s), at most {policy.max_rounds}; nothing was resent")
    first = conn.execute(select(SmsAlert.created_at).where(SmsAlert.alert_id == alert_id)).scalar()
    last = max([_aware(first), *(_aware(r) for r in rounds)])
    allowed = last + policy.min_wait
    if clock.now() < allowed:
        raise ResendRefused("too_early", f"alert_id: too early: the last message of alert {alert_id!r} went out at "
                                         f"{last.isoformat()}; people get {int(policy.min_wait.total_seconds())} s "
                                         f"to answer, so the next reminder may go at {allowed.isoformat()}")
    return len(rounds)


def resend_unacknowledged(engine: Engine, sink: JobSink, clock: Clock, alert_id: str,
                          round_no: int | None = None, rules: BodyRules = CHINA_GUIDANCE,
                          policy: ReminderPolicy = ReminderPolicy(), exercise: bool | None = None) -> ReminderRound:
    """A reminder round to everyone the alert reached (a provider id) who has not acknowledged it; or UnknownAlert,
    or ResendRefused naming the rule (module docstring). ``exercise``: the mode the caller means, when it knows."""
    if round_no is not None and round_no < 1:
        raise ResendRefused("round", f"round: must be 1 or more, got {round_no}")
    with engine.begin() as conn:
        raw = conn.execute(select(SmsAlert.request_json).where(SmsAlert.alert_id == alert_id)).scalar()
        if raw is None or REMINDER in alert_id:
            raise UnknownAlert(f"alert_id: no alert {alert_id!r} in the SMS ledger" + (
                " (a reminder round: name the alert it repeats)" if raw is not None else ""))
        alert = AlertRequested.model_validate_json(raw)
        before = _check(conn, alert_id, alert, clock, policy, exercise, explicit=round_no is not None)
        round_no = round_no or before + 1
        pending = conn.execute(
            select(T.c.job_json).outerjoin(SmsAcknowledgement, and_(SmsAcknowledgement.alert_id == alert_id,
                                                                   SmsAcknowledgement.recipient_id == T.c.recipient_id))
            .where(T.c.alert_id == alert_id, T.c.sid.is_not(None), SmsAcknowledgement.alert_id.is_(None))
            .order_by(T.c.id)).scalars().all()
        if not pending:
            raise ResendRefused("nobody_left", f"alert_id: everyone alert {alert_id!r} reached has acknowledged it "
                                               "(or it reached nobody yet); nothing was resent")
        reminder = alert.model_copy(update={"alert_id": f"{alert_id}{REMINDER}{round_no}"})
        if conn.execute(select(SmsAlert.alert_id).where(SmsAlert.alert_id == reminder.alert_id)).first() is None:
            conn.execute(SmsAlert.__table__.insert().values(
                alert_id=reminder.alert_id, request_json=reminder.model_dump_json(), requires_ack=True,
                fanout_cursor=None, fanout_done=True, jobs_emitted=0, created_at=clock.now()))
    bodies, sent = AlertBodies(reminder, rules), 0
    for job_json in pending:
        job = SmsJob.model_validate_json(job_json)
        recipient = Recipient(job.recipient_id, job.to, job.language.value, job.contact_order)
        again = build_job(reminder, recipient, bodies)
        sink.send(job.recipient_id.encode(), job_event(again, correlationid=None, time=clock.now()).to_bytes())
        sent += 1
    sink.flush()
    return ReminderRound(alert_id, reminder.alert_id, sent)
