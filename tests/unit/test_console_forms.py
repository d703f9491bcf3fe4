"""The officer's forms: any input becomes either a valid contract or errors beside named fields, in Chinese;
the preview says what triage will do, with triage's own rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multidict import MultiDict

from console.desk_pages import buttons, queue_rows
from console.forms import CHILD_ROWS, incident_payload, safety_payload, validate
from console.officer import preview_of
from contracts.classify import classify
from contracts.incident import IncidentReported
from contracts.safety import SafetyReportFiled

NASTY = st.one_of(
    st.text(max_size=50),
    st.sampled_from(["", " ", "\n\r\n", "１２", "１０", "😀" * 300, "a\u200bb", "\u202eevil", "x" * 5000,
                     "-1", "18", "3.5", "1e3", "null", "<script>", "٣", "2026-13-45T99:99", "2026-11-29T10:20"]),
)
CATEGORIES = st.sampled_from(["fall", "abuse_harm", "sexual_assault", "missing_child", "", "unknown", "ＦＡＬＬ"])
FIELDS = {"category", "occurred_at", "location", "severity", "description", "situation", "children",
          *(f"child-{r}-{f}" for r in range(CHILD_ROWS) for f in ("age", "sex", "injured"))}


def incident_form(**values) -> MultiDict:
    base = {"category": "fall", "occurred_at": "2026-11-29T10:20", "location": "操场", "severity": "minor",
            "description": "课间跌倒（测试）", "child-0-age": "9", "child-0-sex": "male"}
    form = MultiDict({k: v for k, v in {**base, **values}.items() if v is not None and k != "situation"})
    for s in values.get("situation", []):
        form.add("situation", s)
    return form


@settings(max_examples=200, deadline=None)
@given(category=CATEGORIES, location=NASTY, description=NASTY, age=NASTY, when=NASTY, sex=NASTY,
       situations=st.lists(NASTY, max_size=4))
def test_any_incident_form_is_a_contract_or_errors_beside_named_fields(category, location, description, age, when,
                                                                         sex, situations):
    form = incident_form(category=category, location=location, description=description, **{"child-0-age": age},
                         occurred_at=when, **{"child-0-sex": sex}, situation=situations)
    payload, rows = incident_payload(form, "sch-test-001", "310115", "测试安全员")
    model, errors = validate(IncidentReported, payload, rows, "zh-CN")
    assert (model is None) == bool(errors)
    for e in errors:
        assert e.field in FIELDS, f"error not beside a form field: {e}"
        assert e.reason and not e.reason.isascii(), f"reason not in Chinese: {e.reason!r}"
    if model is not None:
        assert model.occurred_at.tzinfo is not None  # a typed time is Beijing time


def test_refusals_are_in_chinese_and_name_the_field():
    form = incident_form(**{"child-0-age": "18"}, location="", occurred_at="")
    payload, rows = incident_payload(form, "sch-test-001", "310115", "")
    _, errors = validate(IncidentReported, payload, rows, "zh-CN")
    by_field = {e.field: e.reason for e in errors}
    assert by_field == {"child-0-age": "不能大于 17", "location": "不能为空", "occurred_at": "必填"}
    _, errors = validate(IncidentReported, payload, rows, "en")
    assert {e.field for e in errors} == set(by_field)


def test_blank_child_rows_are_skipped_and_a_later_row_keeps_its_number():
    form = incident_form(**{"child-0-age": None, "child-0-sex": None, "child-2-age": "twelve"})
    payload, rows = incident_payload(form, "sch-test-001", "310115", "")
    _, errors = validate(IncidentReported, payload, rows, "zh-CN")
    assert [(e.field, e.reason) for e in errors] == [("child-2-age", "请填写整数")]


def test_beijing_time_is_attached_to_a_datetime_local_value():
    payload, _ = incident_payload(incident_form(), "sch-test-001", "310115", "")
    assert payload["occurred_at"].utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize("changes, mandatory, agencies", [
    ({}, False, ""),
    # abuse: the women's federation too (contracts/agency_rules.py, the table triage and case routing share)
    ({"category": "abuse_harm", "child-0-injured": "on", "severity": "serious"}, True, "公安机关、民政部门、教育部门、妇联"),
    ({"category": "sexual_assault", "child-0-sex": "female"}, True, "公安机关、民政部门、教育部门、妇联"),
    ({"situation": ["6"]}, True, "公安机关、民政部门、教育部门"),
])
def test_preview_says_what_triage_will_do(changes, mandatory, agencies):
    payload, rows = incident_payload(incident_form(**changes), "sch-test-001", "310115", "")
    model, errors = validate(IncidentReported, payload, rows, "zh-CN")
    assert not errors
    preview = preview_of(model, "zh-CN", 60)
    assert preview["mandatory"] is mandatory is classify(model).mandatory
    assert preview["agencies"] == agencies
    assert preview_of(None, "zh-CN", 60) == {"ready": False}


def test_safety_forms_become_inspections_or_drills():
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    form = MultiDict({"kind": "inspection", "item-1-area": "fire_safety", "item-1-item": "灭火器过期",
                      "item-1-result": "fail", "item-1-critical": "on"})
    payload, rows = safety_payload(form, "sch-test-001", "310115", now)
    model, errors = validate(SafetyReportFiled, payload, rows, "zh-CN")
    assert not errors and model.body.items[0].critical
    drill = MultiDict({"kind": "drill", "drill_kind": "fire", "held_on": "2026-11-20", "participants": "0"})
    payload, rows = safety_payload(drill, "sch-test-001", "310115", now)
    _, errors = validate(SafetyReportFiled, payload, rows, "zh-CN")
    assert [(e.field, e.reason) for e in errors] == [("participants", "不能小于 1")]
    empty, rows = safety_payload(MultiDict({"kind": "inspection"}), "sch-test-001", "310115", now)
    _, errors = validate(SafetyReportFiled, empty, rows, "zh-CN")
    assert [e.field for e in errors] == ["items"]


def _case(case_id, due_minutes, breached=False, level=0, state="forwarded"):
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    due = (now + timedelta(minutes=due_minutes)).isoformat()
    duty = {"duty": "acknowledge", "agency_id": "ps-310115", "due_at": due, "met_at": None, "breached": breached,
            "breached_at": None, "escalation_level": level}
    return {"case_id": case_id, "state": state, "risk": "high", "category": "fall", "reported_at": now.isoformat(),
            "open_duties": [duty], "breaches": [duty] if breached else []}


def test_queue_is_sorted_by_nearest_deadline_with_countdown_and_breach_marks():
    now = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    cases = [_case("c-later", 50), _case("c-soon", 5), _case("c-late", -20, breached=True, level=1)]
    rows = queue_rows(cases, now, "zh-CN", breaches_first=False)
    assert [r["case_id"] for r in rows] == ["c-late", "c-soon", "c-later"]
    assert rows[0]["breached"] and rows[0]["countdown"] == "超时 20 分钟" and rows[0]["escalated"] == 1
    assert rows[1]["countdown"] == "剩 5 分钟"
    overdue_unmarked = queue_rows([_case("c-x", -1)], now, "en", breaches_first=True)[0]
    assert overdue_unmarked["breached"] and overdue_unmarked["countdown"] == "1 min overdue"
    sup = queue_rows([_case("c-soon", 5), _case("c-breached-later", 90, breached=True)], now, "zh-CN", True)
    assert [r["case_id"] for r in sup] == ["c-breached-later", "c-soon"]


def test_buttons_are_the_desks_allowed_actions_where_the_state_machine_allows_them():
    from consumers.cases.access import ACTIONS, Standing

    case = {"state": "forwarded", "view": "agency",
            "agencies": [{"agency_id": "ps-310115", "via": "routing", "acknowledged_at": None}],
            "referrals": [{"id": 7, "to_agency_id": "ca-310115", "state": "requested"}]}
    lead = buttons(ACTIONS[Standing.LEAD], "ps-310115", case)
    assert lead["acknowledge"] and lead["reporter"] and lead["refer"] and not lead["answers"]
    assert not lead["close"] and not lead["assign"], "forwarded: acknowledge first"
    pending = buttons(ACTIONS[Standing.REFERRAL_PENDING], "ca-310115",
                      {"state": "forwarded", "view": "referral", "referrals": [{"id": 7, "state": "requested"}]})
    assert pending["answers"] == {7: ["accept", "reject"]}
    assert not any(v for k, v in pending.items() if k != "answers")
    referred = buttons(ACTIONS[Standing.REFERRED], "ca-310115",
                       {**case, "state": "investigating", "referrals": [{**case["referrals"][0], "state": "accepted"}]})
    assert referred["answers"] == {7: ["complete"]} and referred["services"] and not referred["close"]
    school = buttons(ACTIONS[Standing.SCHOOL], "sch-test-001", {"state": "forwarded", "view": "school"})
    assert school["note"] and not any(v for k, v in school.items() if k != "note")
    supervising = buttons(ACTIONS[Standing.SUPERVISING], "ps-city-3101", case)
    assert not any(supervising.values())
    closed = buttons(ACTIONS[Standing.LEAD], "ps-310115", {**case, "state": "closed", "referrals": []})
    assert closed["reopen"] and not closed["close"] and not closed["assign"] and not closed["refer"]
    assert not closed["acknowledge"]
    missing = {**case, "category": "missing_child", "events": []}
    assert buttons(ACTIONS[Standing.LEAD], "ps-310115", missing)["missing"]
    assert not buttons(ACTIONS[Standing.ROUTED], "ca-310115", missing)["missing"], "lead police only"
    assert not lead["missing"], "only from a missing-child or trafficking case"
    out = {**missing, "events": [{"kind": "missing_child", "details": {"state": "published"}}]}
    assert buttons(ACTIONS[Standing.LEAD], "ps-310115", out)["found"]
    assert not buttons(ACTIONS[Standing.LEAD], "ps-310115", out)["missing"]
