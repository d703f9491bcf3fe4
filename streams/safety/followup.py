"""A failed critical inspection item opens a hazard follow-up: the school's head and the district's
education bureau are told what to fix and by when."""

from __future__ import annotations

from datetime import datetime, timedelta

from contracts.alert_request import AgencyDutyOfficers, AlertKind, AlertRequested, SchoolContacts
from contracts.alert_slots import alert_params
from contracts.common import AgencyKind, Priority
from contracts.events import SafetyReportFiledEvent
from contracts.safety import Drill, InspectionItem, ItemResult
from streams.alerting_config import AlertingConfig
from streams.emitting import alert_output
from streams.output import Output

SOURCE = "/childsafe/streams/safety"
HAZARD_FIELDS = {"school": "data.school_id", "hazard": "data.body.items"}


def failed_critical(event: SafetyReportFiledEvent) -> list[InspectionItem]:
    body = event.data.body
    if isinstance(body, Drill):
        return []
    return [i for i in body.items if i.critical and i.result is ItemResult.FAIL]


def fix_by(items: list[InspectionItem], filed_at: datetime, conf: AlertingConfig) -> datetime:
    """The tightest deadline among the failed items' areas."""
    days = min(conf.hazard_fix_days.get(i.area.value, conf.hazard_fix_days_default) for i in items)
    return filed_at + timedelta(days=days)


def hazard_params(event: SafetyReportFiledEvent, items: list[InspectionItem], deadline: datetime) -> dict[str, str]:
    """The follow-up's parameters: the failed items' own words (normalised), the school, the date to fix by."""
    r = event.data
    return alert_params(AlertKind.HAZARD_FOLLOWUP, {
        "school": r.school_id, "school_id": r.school_id, "hazard": "；".join(i.item for i in items[:3]),
        "deadline": deadline.date().isoformat(), "district_code": r.district_code}, sources=HAZARD_FIELDS)


def hazard_followups(event: SafetyReportFiledEvent, conf: AlertingConfig, now: datetime) -> list[Output]:
    items = failed_critical(event)
    if not items:
        return []
    r = event.data
    deadline = fix_by(items, r.filed_at, conf)
    params = hazard_params(event, items, deadline)
    audiences = {"head": SchoolContacts(school_id=r.school_id),
                 "bureau": AgencyDutyOfficers(agencies=[AgencyKind.EDUCATION], district_code=r.district_code)}
    outputs = []
    for name, audience in audiences.items():
        alert = AlertRequested(alert_id=f"hazard:{event.id}:{name}", kind=AlertKind.HAZARD_FOLLOWUP,
                               priority=Priority.URGENT, audience=audience, params=params,
                               requires_ack=True, source_event_id=event.id,
                               reason=f"{len(items)} critical item(s) failed; fix by {deadline.date().isoformat()}")
        outputs.append(alert_output(alert, SOURCE, now, correlationid=event.id))
    return outputs
