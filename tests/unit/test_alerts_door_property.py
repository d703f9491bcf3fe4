"""Issue 9: an input is refused at the door (a ContractError naming its field, the intake's 422) or every alert
it causes composes, for every audience and in zh-CN and en, within the segment budget. Over every producer:
triage (category × severity × danger × ticked situations), hazard follow-ups, drills, outbreaks (school and
district), the case workflow's duty and escalation alerts, recalls and CAP alerts, with nasty free text."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alerts.composition import Recipient, compose
from consumers.cases.duty_alerts import duty_alert, escalation_alert
from consumers.cases.models import MandatoryReportCase
from contracts.alert_request import AlertRequested
from contracts.common import AgencyKind
from contracts.emergency import EmergencyAlertIssued
from contracts.errors import ContractError
from contracts.events import (
    AlertRequestedEvent,
    EmergencyAlertIssuedEvent,
    IncidentReportedEvent,
    SafetyReportFiledEvent,
)
from contracts.incident import IncidentCategory, IncidentReported, MandatorySituation, Severity
from contracts.safety import InspectionArea, SafetyReportFiled
from streams.alerting_config import AlertingConfig
from streams.door import refuse_what_cannot_compose
from streams.emergency.threads import cap_params
from streams.recalls.plan import recall_params
from streams.safety.drills import drill_overdue_alerts
from streams.safety.followup import hazard_followups
from streams.spikes.outbreak import outbreak_alert
from streams.spikes.window import Spike
from streams.triage import incident_alerts
from tests.alert_checks import NUMBERS, alerts_of, composes_everywhere
from tests.factories import incident
from tests.recall_fixtures import recall_event

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
EXAMPLES = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NASTY = ["\n", "\r\n", "\t", "1. 立即撤离\n2. 关闭门窗", "　", "ＡＢＣ１２３", "😀", "👨‍👩‍👧", "🇨🇳", "\u200b", "\u200d",
         "\u200e", "\u200f", "\u202e", "\u2066", "\ufeff", "\u00ad", "。", ".", "…", "，", "e\u0301", "www.example.cn",
         "详见https://t.cn/x", "测试学校", "Test School", "{ref}", "%s", "\x00", "\x07"]
free_text = st.lists(st.one_of(st.sampled_from(NASTY), st.text(min_size=1, max_size=12)), min_size=1, max_size=25).map(
    "".join)
long_text = st.one_of(free_text, free_text.map(lambda s: s + "暴雨红色预警请立即" * 8), free_text.map(lambda s: "😀" * 70 + s))


def printable(s: str) -> bool:
    return bool(s.strip()) and len(s) <= 200


@EXAMPLES
@given(category=st.sampled_from(IncidentCategory), severity=st.sampled_from(Severity), danger=st.booleans(),
       situations=st.lists(st.sampled_from(MandatorySituation), unique=True, max_size=9),
       description=long_text.filter(printable), location=free_text.filter(printable), school_name=long_text,
       affected=st.one_of(st.none(), st.integers(1, 100_000)))
def test_every_incident_report_composes_every_alert_it_causes(category, severity, danger, situations, description,
                                                              location, school_name, affected):
    data = IncidentReported.model_validate(incident(
        category=category.value, severity=severity.value, child_in_danger_now=danger,
        mandatory_situations=[s.value for s in situations], description=description, location=location,
        children_affected=affected))
    event = IncidentReportedEvent.new(data, source="/test", id="r-prop")
    refuse_what_cannot_compose(event)  # a valid report is never refused at the door
    for alert in incident_alerts(event):
        composes_everywhere(alert, school_name)
    for scope, place in (("school", data.school_id), ("district", data.district_code)):
        spike = Spike(NOW.timestamp(), 3, ("a", "b", "c"), data.children_count + 2)
        [out] = [outbreak_alert(scope, place, data.district_code, category.value, spike, NOW)]
        composes_everywhere(AlertRequestedEvent.model_validate_json(out.value).data, school_name)


@EXAMPLES
@given(items=st.lists(st.tuples(st.sampled_from(InspectionArea), long_text.filter(printable)), min_size=1, max_size=5),
       school_name=long_text, days=st.integers(0, 4000))
def test_every_hazard_followup_and_drill_overdue_composes(items, school_name, days):
    body = {"kind": "inspection", "items": [{"area": a.value, "item": t, "result": "fail", "critical": True}
                                            for a, t in items]}
    try:
        report = SafetyReportFiled.model_validate({"school_id": "SCH-310115-0001", "district_code": "310115",
                                                   "filed_at": NOW.isoformat(), "inspector_unit": "EDU-310115",
                                                   "body": body})
    except ValueError:
        return  # the contract refused it (e.g. whitespace only): the intake answers 422
    event = SafetyReportFiledEvent.new(report, source="/test", id="sr-prop")
    try:
        refuse_what_cannot_compose(event)
    except ContractError as exc:
        assert all(e.field == "data.body.items" for e in exc.errors)
        return
    for alert in alerts_of(hazard_followups(event, AlertingConfig(), NOW)):
        composes_everywhere(alert, school_name)
    since = (date(2020, 1, 1) + timedelta(days=days)).isoformat()
    for alert in alerts_of(drill_overdue_alerts("SCH-310115-0001", [0, "310115", since, since, None], since, 180,
                                                NOW + timedelta(days=days))):
        composes_everywhere(alert, school_name)


@EXAMPLES
@given(product=long_text, hazard=long_text, remedy=long_text, model=st.one_of(st.none(), long_text))
def test_every_recall_is_refused_at_the_door_or_composes(product, hazard, remedy, model):
    try:
        event = recall_event(product_name=product, hazard_type=hazard, remedy=remedy, model=model)
    except ValueError:
        return  # refused by the contract itself (empty, too long): 422 at the door
    try:
        params = recall_params(event)
    except ContractError as exc:
        assert {e.field for e in exc.errors} <= {"data.product_name", "data.hazard_type", "data.remedy", "data.model"}
        return
    alert = AlertRequested(alert_id="recall:prop", kind="recall", priority="urgent", params=params,
                           audience={"kind": "recall_holders", "recall_number": "RC-2026-001", "guardian_ids": ["G"]},
                           source_event_id=event.id, reason="property")
    composes_everywhere(alert, "")


@EXAMPLES
@given(event=long_text, area=long_text, instruction=st.one_of(st.none(), long_text), exercise=st.booleans())
def test_every_cap_alert_is_refused_at_the_door_or_composes(event, area, instruction, exercise):
    base = dict(identifier="A-prop", sender="sender@example.invalid", sent=NOW, status="Exercise" if exercise else "Actual",
                msg_type="Alert", scope="Public", categories=["Met"], event=event, urgency="Immediate",
                severity="Severe", certainty="Observed", instruction=instruction,
                areas=[{"area_desc": area, "circles": [{"center": {"lat": 31.23, "lon": 121.47}, "radius_km": 1}]}])
    try:
        cap = EmergencyAlertIssuedEvent.new(EmergencyAlertIssued.model_validate(base), source="/test", id="e-prop")
    except ValueError:
        return
    try:
        refuse_what_cannot_compose(cap)
    except ContractError as exc:
        assert {e.field for e in exc.errors} <= {"data.event", "data.areas[0].area_desc", "data.instruction"}
        return
    alert = AlertRequested(alert_id="cap:prop", kind="cap_emergency", priority="emergency", params=cap_params(cap.data),
                           audience={"kind": "school_list", "school_ids": ["SCH-1"]}, exercise=exercise,
                           guaranteed_reach=True, source_event_id=cap.id, reason="property")
    composes_everywhere(alert, "")


@EXAMPLES
@given(due=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2040, 1, 1), timezones=st.just(UTC)),
       risk=st.sampled_from(["high", "normal"]), level=st.integers(1, 2), school_id=st.from_regex(
           r"\A[A-Za-z0-9][A-Za-z0-9_-]{1,20}\Z"), agency=st.sampled_from(AgencyKind))
def test_every_case_duty_and_escalation_alert_composes_and_shows_its_deadline(due, risk, level, school_id, agency):
    case = MandatoryReportCase(case_id="CASE-PROP", report_id="r-prop", school_id=school_id, district_code="310115",
                               risk=risk)
    for row in (duty_alert(case, [agency], "alerts", NOW),
                escalation_alert(case, "acknowledge", 7, level, agency, "310115", due, "alerts", NOW)):
        alert = AlertRequestedEvent.model_validate(json.loads(row.value)).data
        composes_everywhere(alert, "")
    shown = compose(alert, Recipient(NUMBERS[0])).body
    local = due.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert f"{local.year}年{local.month}月{local.day}日{local:%H:%M}前" in shown
