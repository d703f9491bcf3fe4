"""Turn one accepted incident report into the work it causes: case command, alert requests, audit.

Pure: no Kafka here, so every routing decision is unit-tested; the Faust agent only sends the result.
Ids are derived from the report id, so a replay produces identical messages (downstream dedups).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from contracts.alert_request import (
    EMERGENCY_VALIDITY_S,
    AgencyDutyOfficers,
    AlertKind,
    AlertRequested,
    SchoolContacts,
    SchoolGuardians,
)
from contracts.alert_slots import alert_params
from contracts.audit import AuditRecorded
from contracts.cases import OpenCase
from contracts.classify import Notice, Triage, classify
from contracts.events import AlertRequestedEvent, AuditRecordedEvent, IncidentReportedEvent, OpenCaseCommand
from contracts.topics import ALERTS_REQUESTED, AUDIT, CASE_COMMANDS
from streams.output import Output

SOURCE = "/childsafe/streams/triage"
_CASE_NS = uuid.UUID("6f1d3c2a-0b7e-4d55-9a43-1c2b3d4e5f60")
REPORT_FIELDS = {"school": "data.school_id", "category": "data.category", "district_code": "data.district_code"}


def case_id_for(report_id: str) -> str:
    """One case per report, whoever computes it and however often."""
    return "CASE-" + uuid.uuid5(_CASE_NS, report_id).hex[:20].upper()


def _alert(event: IncidentReportedEvent, triage: Triage, notice: Notice, index: int) -> AlertRequested:
    r = event.data
    if notice.audience == "school_guardians":
        audience = SchoolGuardians(school_id=r.school_id)
    elif notice.audience == "school_contacts":
        audience = SchoolContacts(school_id=r.school_id)
    else:
        audience = AgencyDutyOfficers(agencies=list(notice.agencies), district_code=r.district_code)
    # A school-wide emergency is public (guardians must act); anything tied to a mandatory case is sensitive.
    sensitive = triage.mandatory and notice.audience != "school_guardians"
    kind = AlertKind.MANDATORY_REPORT_DUTY if sensitive else AlertKind.INCIDENT_EMERGENCY
    # Sensitive alerts carry only where to act; the category is safe only for non-sensitive kinds. The school's
    # id stands in for its name until the fan-out reads the name from the directory.
    values = {"school_id": r.school_id, "district_code": r.district_code}
    if kind is AlertKind.INCIDENT_EMERGENCY:
        values |= {"school": r.school_id, "category": r.category.value}
    params = alert_params(kind, values, sources=REPORT_FIELDS)
    return AlertRequested(
        alert_id=f"{event.id}:{notice.audience}:{index}",
        kind=kind,
        priority=notice.priority,
        audience=audience,
        params=params,
        requires_ack=notice.audience == "agency_duty_officers",
        guaranteed_reach=True,
        validity_seconds=EMERGENCY_VALIDITY_S,
        source_event_id=event.id,
        reason=notice.reason,
    )


def incident_alerts(event: IncidentReportedEvent, triage: Triage | None = None) -> list[AlertRequested]:
    """The alert requests one report causes; a ContractError names the report's field if one cannot compose."""
    triage = triage or classify(event.data)
    return [_alert(event, triage, notice, index) for index, notice in enumerate(triage.notices)]


def route(event: IncidentReportedEvent, now: datetime, received_at: datetime | None = None) -> list[Output]:
    """Every output for one report; the last is always its audit record.

    Clocks start at ``received_at`` (when our intake, or the broker, got the report), never at the
    client's CloudEvent ``time``: that is recorded on the report but a 2099 must not move a deadline.
    """
    r = event.data
    reported_at = min(received_at or event.time, now)
    triage = classify(r)
    cid = event.correlationid or event.id
    outputs: list[Output] = []
    case_id = None
    if triage.mandatory:
        case_id = case_id_for(event.id)
        command = OpenCase(
            case_id=case_id, report_id=event.id, school_id=r.school_id, district_code=r.district_code,
            category=r.category, severity=r.severity, risk=triage.risk, situations=list(triage.situations),
            triggers=list(triage.triggers), agencies=list(triage.agencies), occurred_at=r.occurred_at,
            reported_at=reported_at, children=r.children, summary=r.description, reporter=r.reporter,
        )
        cmd = OpenCaseCommand.new(command, source=SOURCE, subject=case_id, id=f"{event.id}:open-case",
                                  correlationid=cid, time=now)
        outputs.append(Output(CASE_COMMANDS, case_id.encode(), cmd.to_bytes()))
    alert_ids = []
    for alert in incident_alerts(event, triage):
        alert_ids.append(alert.alert_id)
        ev = AlertRequestedEvent.new(alert, source=SOURCE, subject=alert.alert_id, id=f"{alert.alert_id}:requested",
                                     correlationid=cid, time=now)
        outputs.append(Output(ALERTS_REQUESTED, alert.alert_id.encode(), ev.to_bytes()))
    outcome = "mandatory_case" if triage.mandatory else ("alerted" if alert_ids else "recorded")
    audit = AuditRecorded(
        actor="streams.triage", action="triage_incident", subject=event.id, outcome=outcome,
        reason="; ".join(triage.triggers) or "no mandatory-report trigger",
        at=now,
        details={"school_id": r.school_id, "category": r.category.value, "severity": r.severity.value,
                 "risk": triage.risk.value, "situations": [str(s.value) for s in triage.situations],
                 "case_id": case_id or "", "alerts": alert_ids},
    )
    audit_ev = AuditRecordedEvent.new(audit, source=SOURCE, subject=event.id, id=f"{event.id}:triage-audit",
                                      correlationid=cid, time=now)
    outputs.append(Output(AUDIT, event.id.encode(), audit_ev.to_bytes()))
    return outputs
