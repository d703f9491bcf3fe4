"""Every alert the system sends, as CAP 1.2: an AlertRequested mapped to an EmergencyAlertIssued.

Sensitive kinds (mandatory reports, missing children, escalations) are Restricted and carry no
parameters, only the event and where; exercises are status Exercise, never Actual.
"""

from __future__ import annotations

import re
from datetime import datetime

from contracts.alert_request import (
    AgencyDutyOfficers,
    AlertKind,
    AlertRequested,
    ClassGuardians,
    DistrictSchools,
    RecallHolders,
    SchoolContacts,
    SchoolGuardians,
    SchoolList,
    SchoolsInArea,
)
from contracts.common import Priority
from contracts.emergency import (
    Area,
    CapCategory,
    CapCertainty,
    CapMsgType,
    CapScope,
    CapSeverity,
    CapStatus,
    CapUrgency,
    EmergencyAlertIssued,
)

EVENTS = {
    AlertKind.INCIDENT_EMERGENCY: (CapCategory.SAFETY, "School emergency"),
    AlertKind.MANDATORY_REPORT_DUTY: (CapCategory.SECURITY, "Mandatory report to act on"),
    AlertKind.RECALL: (CapCategory.SAFETY, "Children's product recall"),
    AlertKind.HAZARD_FOLLOWUP: (CapCategory.SAFETY, "Campus safety hazard to fix"),
    AlertKind.DRILL_OVERDUE: (CapCategory.SAFETY, "Evacuation drill overdue"),
    AlertKind.OUTBREAK: (CapCategory.HEALTH, "Outbreak at school"),
    AlertKind.CAP_EMERGENCY: (CapCategory.SAFETY, "Emergency alert"),
    AlertKind.MISSING_CHILD: (CapCategory.RESCUE, "Missing child"),
    AlertKind.CASE_ESCALATION: (CapCategory.SECURITY, "Child-protection case escalated"),
}
LEVELS = {Priority.EMERGENCY: (CapUrgency.IMMEDIATE, CapSeverity.SEVERE),
          Priority.URGENT: (CapUrgency.EXPECTED, CapSeverity.MODERATE),
          Priority.NORMAL: (CapUrgency.FUTURE, CapSeverity.MINOR)}


def _area(audience) -> Area:
    if isinstance(audience, SchoolsInArea):
        raise AssertionError("handled by the caller")
    if isinstance(audience, (DistrictSchools, AgencyDutyOfficers)):
        return Area(area_desc=f"district {audience.district_code}", geocodes={"GB/T2260": audience.district_code})
    if isinstance(audience, (SchoolGuardians, ClassGuardians, SchoolContacts)):
        return Area(area_desc=f"school {audience.school_id}")
    if isinstance(audience, SchoolList):
        more = f" and {len(audience.school_ids) - 5} more" if len(audience.school_ids) > 5 else ""
        return Area(area_desc=(f"schools {', '.join(audience.school_ids[:5])}{more}")[:200])
    if isinstance(audience, RecallHolders):
        return Area(area_desc=f"holders of recalled product {audience.recall_number}")
    return Area(area_desc=f"holders of recalled product {audience.recall_number}")


def request_as_cap(request: AlertRequested, sent: datetime, sender: str = "childsafe.local") -> EmergencyAlertIssued:
    category, event = EVENTS[request.kind]
    urgency, severity = LEVELS[request.priority]
    areas = list(request.audience.areas) if isinstance(request.audience, SchoolsInArea) else [_area(request.audience)]
    description = None
    if not request.sensitive and request.params:
        description = "; ".join(f"{k}: {v}" for k, v in sorted(request.params.items()))[:4000]
    return EmergencyAlertIssued(
        identifier=re.sub(r"[\s,<&]", "_", request.alert_id)[:200], sender=sender, sent=sent.replace(microsecond=0),
        status=CapStatus.EXERCISE if request.exercise else CapStatus.ACTUAL, msg_type=CapMsgType.ALERT,
        scope=CapScope.RESTRICTED if request.sensitive else CapScope.PUBLIC, categories=[category],
        event=event, urgency=urgency, severity=severity, certainty=CapCertainty.OBSERVED,
        headline=f"{event} ({request.kind.value})", description=description, areas=areas)
