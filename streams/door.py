"""The intake's promise: an input is refused here (422, the field named) or every alert it causes composes.

Each check runs the producer's own parameter builder (the one its agent runs), which normalises free text
and validates it against the template's slots (``contracts.alert_slots``); a ContractError names the
input's field. Nothing is written and no state is read: the agents' later decisions (matches, windows, the
atlas) only choose *who* is told, never what the SMS says.
"""

from __future__ import annotations

from datetime import timedelta

from contracts.envelope import CloudEvent
from contracts.events import (
    EmergencyAlertIssuedEvent,
    IncidentReportedEvent,
    RecallPublishedEvent,
    SafetyReportFiledEvent,
)
from streams.emergency.threads import cap_params
from streams.recalls.plan import recall_params
from streams.safety.followup import failed_critical, hazard_params
from streams.spikes.outbreak import outbreak_params
from streams.triage import incident_alerts


def refuse_what_cannot_compose(event: CloudEvent) -> None:
    """Raise ContractError if an alert ``event`` would cause could not be composed."""
    if isinstance(event, IncidentReportedEvent):
        incident_alerts(event)
        outbreak_params("school", event.data.school_id, event.data.district_code, event.data.category.value, 1)
    elif isinstance(event, RecallPublishedEvent):
        recall_params(event)
    elif isinstance(event, SafetyReportFiledEvent):
        items = failed_critical(event)
        if items:
            hazard_params(event, items, event.data.filed_at + timedelta(days=1))
    elif isinstance(event, EmergencyAlertIssuedEvent):
        cap_params(event.data)
