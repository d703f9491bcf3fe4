"""The one outbreak alert of a spike: the duty officers of the agencies the rule table names for the category
(food poisoning: health, education and market regulation), told where, what and how many children."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts.agency_rules import category_agencies
from contracts.alert_request import AgencyDutyOfficers, AlertKind, AlertRequested
from contracts.alert_slots import alert_params
from contracts.common import AgencyKind, Priority
from contracts.incident import IncidentCategory
from streams.emitting import alert_output
from streams.output import Output
from streams.spikes.window import Spike

SOURCE = "/childsafe/streams/spikes"


def outbreak_agencies(kind: str) -> tuple[AgencyKind, ...]:
    """Health and education for any cluster, and whoever else the rule table names for the category."""
    named = category_agencies(IncidentCategory(kind)) if kind in IncidentCategory._value2member_map_ else ()
    return tuple(dict.fromkeys((AgencyKind.HEALTH, AgencyKind.EDUCATION, *named)))


def outbreak_params(scope: str, place: str, district_code: str, kind: str, children: int | None) -> dict[str, str]:
    """The outbreak alert's parameters: the school (its id until the fan-out reads its name) or the district,
    the category, and how many children when more than one per report."""
    school = place if scope == "school" else None
    return alert_params(AlertKind.OUTBREAK, {
        "school": school, "school_id": school, "district_code": district_code, "category": kind, "scope": scope,
        "children": str(children) if children else None}, sources={"category": "data.category"})


def outbreak_alert(scope: str, place: str, district_code: str, kind: str, spike: Spike, now: datetime) -> Output:
    """``scope``: "school" or "district"; the alert id names the window, so a replay yields the same id."""
    start = datetime.fromtimestamp(spike.window_start, UTC).strftime("%Y%m%dT%H%M%SZ")
    alert = AlertRequested(
        alert_id=f"outbreak:{scope}:{place}:{kind}:{start}", kind=AlertKind.OUTBREAK, priority=Priority.URGENT,
        audience=AgencyDutyOfficers(agencies=list(outbreak_agencies(kind)), district_code=district_code),
        params=outbreak_params(scope, place, district_code, kind, spike.children if spike.children > spike.count else None),
        requires_ack=True, source_event_id=spike.report_ids[-1][:128],
        reason=f"{spike.count} {kind} reports ({spike.children} children) in one {scope} within the window (reports: "
               f"{', '.join(spike.report_ids[:5])[:120]})")
    return alert_output(alert, SOURCE, now)
