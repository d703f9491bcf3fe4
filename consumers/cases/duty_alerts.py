"""Alert requests the case workflow emits, as outbox rows: no names and no case detail, deterministic ids."""

from __future__ import annotations

import hashlib
from datetime import datetime

from consumers.cases.models import MandatoryReportCase
from consumers.cases.tracking import OutboxMessage
from contracts.alert_request import AgencyDutyOfficers, AlertKind, AlertRequested
from contracts.alert_slots import alert_params
from contracts.common import AgencyKind, Priority
from contracts.events import AlertRequestedEvent

SOURCE = "/consumers/cases"


def event_id(alert_id: str) -> str:
    """A CloudEvent id derived from the alert id, so a replay produces the very same message."""
    return "cases-" + hashlib.sha256(alert_id.encode()).hexdigest()[:32]


def _outbox(topic: str, alert: AlertRequested, case_id: str, purpose: str, now: datetime,
            correlation: str) -> OutboxMessage:
    event = AlertRequestedEvent.new(alert, source=SOURCE, subject=case_id, id=event_id(alert.alert_id),
                                    correlationid=correlation, time=now)
    return OutboxMessage(id=alert.alert_id, topic=topic, key=alert.alert_id.encode(), value=event.to_bytes(),
                         purpose=purpose, case_id=case_id, created_at=now)


def duty_alert(case: MandatoryReportCase, kinds: list[AgencyKind], topic: str, now: datetime) -> OutboxMessage:
    """Tell the routed agencies' duty officers they must act on a mandatory report, and where."""
    alert = AlertRequested(
        alert_id=f"case-duty:{case.case_id}", kind=AlertKind.MANDATORY_REPORT_DUTY,
        priority=Priority.EMERGENCY if case.risk == "high" else Priority.URGENT,
        audience=AgencyDutyOfficers(agencies=kinds, district_code=case.district_code),
        params=alert_params(AlertKind.MANDATORY_REPORT_DUTY, {
            "case_ref": case.case_id, "district_code": case.district_code, "school_id": case.school_id}),
        requires_ack=True, source_event_id=case.report_id, reason="mandatory report: agencies must act")
    return _outbox(topic, alert, case.case_id, "duty", now, case.report_id)


def escalation_alert(case: MandatoryReportCase, duty: str, deadline_id: int, level: int, kind: AgencyKind,
                     district_code: str, due_at: datetime, topic: str, now: datetime) -> OutboxMessage:
    """Tell a supervising agency (level 1) or the education bureau (level 2) that a duty was missed."""
    alert = AlertRequested(
        alert_id=f"case-esc:{case.case_id}:{deadline_id}:L{level}", kind=AlertKind.CASE_ESCALATION,
        priority=Priority.EMERGENCY if case.risk == "high" else Priority.URGENT,
        audience=AgencyDutyOfficers(agencies=[kind], district_code=district_code),
        params=alert_params(AlertKind.CASE_ESCALATION, {
            "case_ref": case.case_id, "duty": duty, "deadline": due_at.isoformat(), "level": str(level),
            "district_code": case.district_code}),
        requires_ack=True, source_event_id=case.report_id, reason=f"case duty '{duty}' missed its deadline")
    return _outbox(topic, alert, case.case_id, "escalation", now, case.report_id)
