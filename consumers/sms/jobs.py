"""SMS jobs: their dedup key, the job marker carried in the status-callback URL, and their event form."""

from __future__ import annotations

import hashlib
from datetime import datetime

from contracts.events import SmsJobEvent
from contracts.sms import SmsJob

SOURCE = "/consumers/sms-fanout"


def dedup_key(alert_id: str, recipient_id: str) -> str:
    """At most one message is ever sent per dedup key (the ledger's UNIQUE alert id + recipient)."""
    return f"{alert_id}:{recipient_id}"


def job_marker(key: str) -> str:
    """An opaque marker of the job, put in the status-callback URL (``?job=``): it lets the dispatcher find
    the message at the provider after an ambiguous send, and the webhook find the ledger row."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


def job_event(job: SmsJob, *, correlationid: str | None, time: datetime) -> SmsJobEvent:
    """The event id derives from the dedup key, so a re-emitted job is recognisably the same job."""
    return SmsJobEvent.model_construct(
        specversion="1.0", id=f"job-{job_marker(job.dedup_key)}", source=SOURCE, type=SmsJobEvent.TYPE, time=time,
        subject=job.recipient_id, datacontenttype="application/json", correlationid=correlationid, data=job)
