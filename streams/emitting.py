"""What the item 18/22 agents share: build alert requests, cancellations and audits, and write them durably."""

from __future__ import annotations

import logging
from datetime import datetime

from contracts.alert_cancel import AlertCancelled
from contracts.alert_request import AlertRequested
from contracts.audit import AuditRecorded
from contracts.events import AlertCancelledEvent, AlertRequestedEvent, AuditRecordedEvent
from contracts.topics import ALERTS_CANCELLED, ALERTS_REQUESTED, AUDIT
from streams.output import Output

log = logging.getLogger("childsafe.streams.emit")


def alert_output(alert: AlertRequested, source: str, now: datetime, correlationid: str | None = None) -> Output:
    ev = AlertRequestedEvent.new(alert, source=source, subject=alert.alert_id, id=f"{alert.alert_id}:requested",
                                 correlationid=correlationid, time=now)
    return Output(ALERTS_REQUESTED, alert.alert_id.encode(), ev.to_bytes())


def cancel_output(alert_id: str, reason: str, source_event_id: str, source: str, now: datetime) -> Output:
    data = AlertCancelled(alert_id=alert_id, reason=reason[:200], cancelled_at=now, source_event_id=source_event_id)
    ev = AlertCancelledEvent.new(data, source=source, subject=alert_id, id=f"{alert_id}:cancelled", time=now)
    return Output(ALERTS_CANCELLED, alert_id.encode(), ev.to_bytes())


def audit_output(actor: str, action: str, subject: str, outcome: str, reason: str, now: datetime,
                 details: dict, event_id: str) -> Output:
    audit = AuditRecorded(actor=actor, action=action, subject=subject, outcome=outcome, reason=reason[:200] or "-",
                          at=now, details=details)
    ev = AuditRecordedEvent.new(audit, source=f"/childsafe/{actor}", subject=subject, id=event_id, time=now)
    return Output(AUDIT, subject.encode(), ev.to_bytes())


def chunks(items: list[str], size: int) -> list[list[str]]:
    return [items[i:i + size] for i in range(0, len(items), size)]
