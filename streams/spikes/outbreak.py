"""The one outbreak alert of a spike: health and education duty officers of the district."""

from __future__ import annotations

from datetime import datetime, timezone

from contracts.alert_request import AgencyDutyOfficers, AlertKind, AlertRequested
from contracts.common import AgencyKind, Priority
from streams.emitting import alert_output
from streams.spikes.window import Spike
from streams.triage import Output

SOURCE = "/childsafe/streams/spikes"
DISEASE = {"food_poisoning": "食物中毒/food poisoning"}


def outbreak_alert(scope: str, place: str, district_code: str, kind: str, spike: Spike, now: datetime) -> Output:
    """``scope``: "school" or "district"; the alert id names the window, so a replay yields the same id."""
    start = datetime.fromtimestamp(spike.window_start, timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    alert = AlertRequested(
        alert_id=f"outbreak:{scope}:{place}:{kind}:{start}", kind=AlertKind.OUTBREAK, priority=Priority.URGENT,
        audience=AgencyDutyOfficers(agencies=[AgencyKind.HEALTH, AgencyKind.EDUCATION], district_code=district_code),
        params={"school": place if scope == "school" else f"district {place}", "disease": DISEASE.get(kind, kind),
                "district_code": district_code},
        requires_ack=True, source_event_id=spike.report_ids[-1][:128],
        reason=f"{spike.count} {kind} reports in one {scope} within the window (reports: "
               f"{', '.join(spike.report_ids[:5])[:120]})")
    return alert_output(alert, SOURCE, now)
