"""Audience fan-out: one AlertRequested becomes one SmsJob per recipient, keyed by recipient.

Recipients stream out of the directory in keyset pages; after each page the producer is flushed and
the page's cursor is saved with the alert, so a restart resumes where it stopped and memory stays flat.
Jobs carry a dedup key (alert id + recipient), so a page emitted twice is harmless downstream.
A cancelled alert (``alerts.cancelled.v1``, recorded by the dispatcher process) is checked before each page:
no further page is emitted, and a request arriving after its cancellation emits nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import Engine, select, update

from alerts.body_rules import CHINA_GUIDANCE, BodyRules
from alerts.errors import AlertsError
from alerts.templates import template_for
from consumers.directory.audience import Recipient, pages
from consumers.metrics import ALERT_FALLBACK_BODIES, ALERTS_REFUSED_AFTER_ACCEPTANCE, FANOUT_JOBS
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.compose import AlertBodies
from consumers.sms.jobs import dedup_key, job_event
from consumers.store.core import School
from consumers.store.sms_ledger import SmsAlert
from contracts.alert_request import AlertRequested
from contracts.clock import Clock
from contracts.common import Language, Priority
from contracts.events import AlertRequestedEvent
from contracts.sms import SmsJob

log = logging.getLogger("childsafe.sms.fanout")


class JobSink(Protocol):
    def send(self, key: bytes, value: bytes) -> None: ...

    def flush(self) -> None:
        """Return once every job sent so far is acknowledged; raise consumers.kafka_io.ProduceFailed otherwise."""


@dataclass(frozen=True)
class FanoutResult:
    alert_id: str
    emitted: int
    resumed_after: str | None
    cancelled: bool = False


class AudienceFanout:
    def __init__(self, engine: Engine, sink: JobSink, clock: Clock, page_size: int = 2000,
                 rules: BodyRules = CHINA_GUIDANCE):
        self.engine, self.sink, self.clock, self.page_size = engine, sink, clock, page_size
        self.rules = rules  # CHILDSAFE_SMS_MAX_SEGMENTS (ops.bootstrap.build_body_rules)
        self.cancellations = CancellationBook(engine, clock)

    def fan_out(self, event: AlertRequestedEvent) -> FanoutResult:
        """Raises UnsupportedAudience or, for an alert that is not an emergency, the alerts library's composition
        errors before emitting anything. An emergency that cannot be composed goes out with the minimal safe body."""
        alert, school = self._with_school_name(event.data)
        bodies = self._bodies(alert, school)
        cursor, emitted = self._resume(alert)
        if cursor == "\x00done":
            return FanoutResult(alert.alert_id, 0, None)
        resumed_after = cursor
        now = self.clock.now()
        if self.cancellations.is_cancelled(alert.alert_id):
            return self._stop(alert.alert_id, cursor, emitted, resumed_after)
        for recipients, page_end in pages(self.engine, alert.audience, guaranteed_reach=alert.guaranteed_reach,
                                          after=cursor, size=self.page_size):
            if self.cancellations.is_cancelled(alert.alert_id):  # this page is not emitted
                return self._stop(alert.alert_id, cursor, emitted, resumed_after)
            cursor = page_end
            for recipient in recipients:
                job = build_job(alert, recipient, bodies, requested_at=event.time)
                self.sink.send(recipient.recipient_id.encode(),
                               job_event(job, correlationid=event.correlationid, time=now).to_bytes())
            self.sink.flush()
            FANOUT_JOBS.labels(alert.priority.value).inc(len(recipients))  # per page, after the broker has them
            emitted += len(recipients)
            self._save(alert.alert_id, cursor, emitted, done=False)
        self._save(alert.alert_id, cursor, emitted, done=True)
        return FanoutResult(alert.alert_id, emitted, resumed_after)

    def _stop(self, alert_id: str, cursor: str | None, emitted: int, resumed_after: str | None) -> FanoutResult:
        self._save(alert_id, cursor, emitted, done=True)
        return FanoutResult(alert_id, emitted, resumed_after, cancelled=True)

    def _bodies(self, alert: AlertRequested, school: str | None) -> AlertBodies:
        """The alert's bodies, composed for every language and number family before anything is emitted."""
        try:
            bodies = AlertBodies(alert, self.rules)
            bodies.check()
            return bodies
        except AlertsError as exc:
            if alert.priority is not Priority.EMERGENCY:
                ALERTS_REFUSED_AFTER_ACCEPTANCE.labels(alert.priority.value).inc()
                raise
            log.error("emergency alert %s could not be composed (%s): sending the minimal safe body",
                      alert.alert_id, type(exc).__name__)
        bodies = AlertBodies(alert, self.rules, fallback=True, school=None if alert.sensitive else school)
        bodies.check()
        ALERT_FALLBACK_BODIES.labels(alert.priority.value).inc()
        return bodies

    def _with_school_name(self, alert: AlertRequested) -> tuple[AlertRequested, str | None]:
        """Producers upstream know a school's id, not its name; the directory does. The name fills the template's
        ``school`` slot (non-sensitive kinds only) and is returned for the emergency fallback body."""
        school_id = alert.params.get("school_id") or getattr(alert.audience, "school_id", None)
        if school_id is None:
            return alert, None
        with self.engine.connect() as conn:
            name = conn.scalar(select(School.name).where(School.id == school_id))
        if alert.sensitive or name is None or "school" not in template_for(alert.kind).slot_names:
            return alert, name
        return alert.model_copy(update={"params": {**alert.params, "school": name}}), name

    def _resume(self, alert: AlertRequested) -> tuple[str | None, int]:
        with self.engine.begin() as conn:
            row = conn.execute(select(SmsAlert.fanout_cursor, SmsAlert.fanout_done, SmsAlert.jobs_emitted)
                               .where(SmsAlert.alert_id == alert.alert_id)).first()
            if row is None:
                conn.execute(SmsAlert.__table__.insert().values(
                    alert_id=alert.alert_id, request_json=alert.model_dump_json(), requires_ack=alert.requires_ack,
                    fanout_cursor=None, fanout_done=False, jobs_emitted=0, created_at=self.clock.now()))
                return None, 0
        return ("\x00done", row[2]) if row[1] else (row[0], row[2])

    def _save(self, alert_id: str, cursor: str | None, emitted: int, done: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(SmsAlert).where(SmsAlert.alert_id == alert_id)
                         .values(fanout_cursor=cursor, jobs_emitted=emitted, fanout_done=done))


def build_job(alert: AlertRequested, recipient: Recipient, bodies: AlertBodies,
              requested_at: datetime | None = None) -> SmsJob:
    """Directory numbers are E.164 already (validated on import), so the job is built without re-parsing."""
    body, segments = bodies.body_for(recipient.language, recipient.phone)
    return SmsJob.model_construct(
        dedup_key=dedup_key(alert.alert_id, recipient.recipient_id), alert_id=alert.alert_id,
        recipient_id=recipient.recipient_id, to=recipient.phone, body=body,
        language=Language(recipient.language) if recipient.language in ("zh-CN", "en") else Language.ZH_CN,
        priority=alert.priority, segments=segments, validity_seconds=alert.validity_seconds,
        guaranteed_reach=alert.guaranteed_reach, contact_order=recipient.contact_order, requested_at=requested_at)
