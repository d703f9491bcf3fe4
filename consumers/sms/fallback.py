"""Hand an unreachable guardian's alert to the next guardian in each of their children's contact order.

Rows flagged ``fallback_pending`` (refused, undelivered, skipped for an opt-out, given up) become new jobs
on the SMS jobs topic; the flag is cleared only after Kafka acknowledged them, so a crash re-emits them
and the ledger's dedup key makes the repeat harmless.
"""

from __future__ import annotations

from sqlalchemy import Engine, select

from alerts.body_rules import CHINA_GUIDANCE, BodyRules
from consumers.directory.audience import GUARDIAN, next_guardians
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.compose import AlertBodies
from consumers.sms.fanout import JobSink
from consumers.sms.jobs import dedup_key, job_event
from consumers.sms.ledger import SmsLedger
from consumers.store.sms_ledger import SmsAlert
from contracts.alert_request import AlertRequested
from contracts.clock import Clock
from contracts.common import Language
from contracts.sms import SmsJob


class GuardianFallback:
    def __init__(self, engine: Engine, ledger: SmsLedger, sink: JobSink, clock: Clock, rules: BodyRules = CHINA_GUIDANCE):
        self.engine, self.ledger, self.sink, self.clock, self.rules = engine, ledger, sink, clock, rules

    def emit(self, limit: int = 200) -> int:
        rows = self.ledger.fallback_rows(limit)
        if not rows:
            return 0
        emitted, bodies = 0, {}
        stopped = CancellationBook(self.engine, self.clock).cancelled({job.alert_id for _, job in rows})
        for _, job in rows:
            if not job.recipient_id.startswith(GUARDIAN) or job.alert_id in stopped:
                continue
            for nxt in next_guardians(self.engine, job.recipient_id.removeprefix(GUARDIAN)):
                body, segments = self._body(job, nxt.language, nxt.phone, bodies)
                fallback = job.model_copy(update=dict(
                    dedup_key=dedup_key(job.alert_id, nxt.recipient_id), recipient_id=nxt.recipient_id, to=nxt.phone,
                    body=body, segments=segments, contact_order=nxt.contact_order,
                    language=Language(nxt.language) if nxt.language in ("zh-CN", "en") else Language.ZH_CN))
                self.sink.send(nxt.recipient_id.encode(),
                               job_event(fallback, correlationid=None, time=self.clock.now()).to_bytes())
                emitted += 1
        self.sink.flush()
        self.ledger.clear_fallback([row_id for row_id, _ in rows])
        return emitted

    def _body(self, job: SmsJob, language: str, to: str, cache: dict) -> tuple[str, int]:
        if job.alert_id not in cache:
            with self.engine.connect() as conn:
                raw = conn.execute(select(SmsAlert.request_json).where(SmsAlert.alert_id == job.alert_id)).scalar()
            cache[job.alert_id] = AlertBodies(AlertRequested.model_validate_json(raw), self.rules) if raw else None
        if cache[job.alert_id] is None:  # the alert came from elsewhere: reuse the failed job's body
            return job.body, job.segments
        return cache[job.alert_id].body_for(language, to)
