"""What one report turns into: commands, alert requests and an audit record, free of identities."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from contracts.codec import decode
from contracts.events import AlertRequestedEvent, AuditRecordedEvent, IncidentReportedEvent, OpenCaseCommand
from contracts.topics import ALERTS_REQUESTED, AUDIT, CASE_COMMANDS
from streams.triage import case_id_for, route
from tests.factories import incident_bytes

NOW = datetime(2026, 11, 29, 2, 31, tzinfo=UTC)
REPORTER = {"role": "teacher", "unit_id": "SCH-310115-0002", "name": "测试教师甲", "phone": "+12025550123",
            "confidential": True}


def _report(**changes) -> IncidentReportedEvent:
    return decode(incident_bytes(**changes), IncidentReportedEvent)


def test_ordinary_accident_is_audited_only():
    outputs = route(_report(), NOW)
    assert [o.topic for o in outputs] == [AUDIT]
    audit = decode(outputs[0].value, AuditRecordedEvent)
    assert audit.data.outcome == "recorded" and audit.correlationid == "r-0001"


def test_mandatory_report_opens_one_case_with_a_stable_id():
    event = _report(category="abuse_harm", severity="serious", mandatory_situations=[4], reporter=REPORTER)
    first, again = route(event, NOW), route(event, NOW)
    assert [o.value for o in first] == [o.value for o in again], "a replay must produce identical messages"
    [case_out] = [o for o in first if o.topic is CASE_COMMANDS]
    command = decode(case_out.value, OpenCaseCommand)
    assert command.data.case_id == case_id_for("r-0001") == case_out.key.decode()
    assert command.data.reporter.name == "测试教师甲", "the case store needs the reporter, kept apart there"


def test_alerts_and_audit_never_carry_names_phone_or_report_text():
    event = _report(category="sexual_assault", severity="serious", child_in_danger_now=True,
                    children=[{"age": 12, "sex": "female"}], reporter=REPORTER,
                    description="测试儿童乙在放学路上被陌生人跟踪")
    outputs = [o for o in route(event, NOW) if o.topic in (ALERTS_REQUESTED, AUDIT)]
    assert {o.topic for o in outputs} == {ALERTS_REQUESTED, AUDIT}
    for out in outputs:
        text = out.value.decode()
        for secret in ("测试教师甲", "+12025550123", "测试儿童乙", "跟踪"):
            assert secret not in text, (secret, out.topic.suffix)
        if out.topic is ALERTS_REQUESTED:  # not even the kind of harm reaches an SMS
            assert "sexual_assault" not in text
    alerts = [decode(o.value, AlertRequestedEvent).data for o in outputs if o.topic is ALERTS_REQUESTED]
    assert all(a.sensitive for a in alerts)


def test_school_emergency_alerts_guardians_and_agencies():
    event = _report(category="fire", severity="critical", children=[])
    alerts = [decode(o.value, AlertRequestedEvent).data for o in route(event, NOW) if o.topic is ALERTS_REQUESTED]
    kinds = {a.audience.kind for a in alerts}
    assert kinds == {"school_guardians", "agency_duty_officers"}
    assert all(a.validity_seconds and a.priority.value == "emergency" for a in alerts)
    assert len({a.alert_id for a in alerts}) == 2


def test_audit_names_the_decision():
    event = _report(category="missing_child", severity="critical", child_in_danger_now=True)
    audit = decode(route(event, NOW)[-1].value, AuditRecordedEvent).data
    assert audit.outcome == "mandatory_case"
    assert "situation_7" in audit.reason
    assert audit.details["case_id"] == case_id_for("r-0001")
    assert json.dumps(audit.details)  # plain JSON, no objects


def test_school_wide_emergency_tells_guardians_plainly_even_when_a_case_opens():
    event = _report(category="campus_intrusion_violence", severity="critical", child_in_danger_now=True, children=[])
    alerts = {a.audience.kind: a for a in (decode(o.value, AlertRequestedEvent).data for o in route(event, NOW)
                                           if o.topic is ALERTS_REQUESTED)}
    assert alerts["school_guardians"].kind.value == "incident_emergency" and not alerts["school_guardians"].sensitive
    assert "agency_duty_officers" not in alerts, "the case workflow tells the duty officers"
