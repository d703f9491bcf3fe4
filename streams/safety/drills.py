"""Evacuation drills: the last one per school, and which schools have gone too long without one.

Table value per school: ``[partition, district, last evacuation drill (ISO date) or None, first seen (ISO
date), flagged for (the date the overdue period was counted from) or None]``. A school is flagged once per
missed period: a new drill clears it, a further missed period flags it again.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from contracts.alert_request import AgencyDutyOfficers, AlertKind, AlertRequested, SchoolContacts
from contracts.alert_slots import DEADLINE_TZ, alert_params
from contracts.common import AgencyKind, Priority
from contracts.events import SafetyReportFiledEvent
from contracts.safety import Drill, DrillKind
from streams.emitting import alert_output
from streams.output import Output

SOURCE = "/childsafe/streams/safety"


def record_report(value: list | None, partition: int, event: SafetyReportFiledEvent) -> list:
    r = event.data
    filed = r.filed_at.date().isoformat()
    last, first, flagged = (value[2], value[3], value[4]) if value else (None, filed, None)
    body = r.body
    if isinstance(body, Drill) and body.drill_kind is DrillKind.EVACUATION:
        held = body.held_on.isoformat()
        if last is None or held > last:
            last = held
    return [partition, r.district_code, last, min(first, filed), flagged]


def overdue(value: list, today: date, period_days: int) -> str | None:
    """The date the missed period counts from, if the school is overdue and not yet flagged for it."""
    since = value[2] or value[3]
    if date.fromisoformat(since) + timedelta(days=period_days) < today and value[4] != since:
        return since
    return None


def drill_overdue_alerts(school_id: str, value: list, since: str, period_days: int, now: datetime) -> list[Output]:
    due = (date.fromisoformat(since) + timedelta(days=period_days)).isoformat()
    params = alert_params(AlertKind.DRILL_OVERDUE, {"school": school_id, "school_id": school_id, "drill": "evacuation",
                                                    "deadline": (now.astimezone(DEADLINE_TZ).date() + timedelta(days=14)).isoformat()})
    audiences = {"head": SchoolContacts(school_id=school_id),
                 "bureau": AgencyDutyOfficers(agencies=[AgencyKind.EDUCATION], district_code=value[1])}
    outputs = []
    for name, audience in audiences.items():
        alert = AlertRequested(alert_id=f"drill-overdue:{school_id}:{since}:{name}", kind=AlertKind.DRILL_OVERDUE,
                               priority=Priority.NORMAL, audience=audience, params=params,
                               source_event_id=f"drill-overdue:{school_id}:{since}",
                               reason=f"no evacuation drill since {since} (was due by {due})")
        outputs.append(alert_output(alert, SOURCE, now))
    return outputs
