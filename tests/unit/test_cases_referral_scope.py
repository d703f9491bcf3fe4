"""Referral scope that ends, lead-only duties, audited identity reveals, the school's redacted view.

Each test reproduces one way the desk leaked or over-granted on main (issue 10, item 3).
"""

from __future__ import annotations

import json
import unicodedata

import pytest
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consumers.cases import access
from consumers.cases.api import build_app
from consumers.cases.audit import AuditRecord
from consumers.cases.errors import CaseNotFound, Forbidden, InvalidCaseInput
from consumers.cases.models import CaseDeadline
from ops.cli import main
from tests.cases_fixtures import REPORTER_NAME, REPORTER_PHONE, SCHOOL, SUMMARY, CaseWorld, open_case

CASE = "case-000001"
LEAD = "ps-310115"
POLICE_NOTE = "嫌疑人为该校体育老师张某，勿告知学校"  # fictional; the school must never read it


@pytest.fixture()
def world(db_url):
    w = CaseWorld(db_url)
    w.open(open_case(1))
    w.lead = w.token("police_duty_officer", LEAD)
    yield w
    w.close()


def _refer(world, to_agency: str) -> int:
    return world.desk.refer(world.lead, CASE, to_agency, "TEST referral: forensic interview")["referral_id"]


def _denied(world) -> list[tuple[str, str, str]]:
    with world.transaction() as s:
        return [(r.action, r.subject, r.outcome) for r in
                s.execute(select(AuditRecord).where(AuditRecord.action.like("denied.%"))
                          .order_by(AuditRecord.seq)).scalars()]


def _assign_duty(world) -> CaseDeadline:
    with world.transaction() as s:
        row = s.execute(select(CaseDeadline).where(CaseDeadline.case_id == CASE,
                                                   CaseDeadline.duty == "assign")).scalar_one()
        s.expunge(row)
        return row


ACTS = {  # what a referred agency must not do before accepting, after rejecting, after completing
    "view": lambda d, t: d.view_case(t, CASE),
    "reporter": lambda d, t: d.reporter(t, CASE),
    "acknowledge": lambda d, t: d.acknowledge(t, CASE),
    "assign": lambda d, t: d.assign(t, CASE, "TEST Investigator 07"),
    "close": lambda d, t: d.close(t, CASE, "TEST outcome"),
    "note": lambda d, t: d.note(t, CASE, "TEST note from the referred agency"),
}


def test_a_requested_referral_shows_only_the_referral_until_accepted(world):
    hq = world.token("police_duty_officer", "ps-city-3101")  # another police agency: police role, not the lead
    rid = _refer(world, "ps-city-3101")
    view = world.desk.view_case(hq, CASE)
    text = json.dumps(view, ensure_ascii=False)
    assert view["view"] == "referral" and [r["id"] for r in view["referrals"]] == [rid]
    assert SUMMARY not in text and "events" not in view and "children" not in view
    for name in ("reporter", "acknowledge", "assign", "close", "note"):
        with pytest.raises(Forbidden, match="accept"):
            ACTS[name](world.desk, hq)
    assert [c["case_id"] for c in world.desk.list_cases(hq)] == [CASE]


@pytest.mark.parametrize("ending", ["reject", "complete"])
def test_rejecting_or_completing_a_referral_ends_all_access(world, ending):
    hq = world.token("police_duty_officer", "ps-city-3101")
    rid = _refer(world, "ps-city-3101")
    if ending == "reject":
        world.desk.answer_referral(hq, CASE, rid, "reject", "TEST not ours")
    else:
        world.desk.answer_referral(hq, CASE, rid, "accept")
        assert world.desk.view_case(hq, CASE)["view"] == "agency"
        world.desk.answer_referral(hq, CASE, rid, "complete")
    for act in ACTS.values():
        with pytest.raises(CaseNotFound, match="not in the scope"):
            act(world.desk, hq)
    assert world.desk.list_cases(hq) == []
    assert {a for a, _, _ in _denied(world)} >= {f"denied.{n}" for n in ACTS}


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "requested"])
def test_closing_the_case_ends_its_open_referrals_and_their_access(world, accepted):
    hq = world.token("police_duty_officer", "ps-city-3101")  # every act in ACTS is one its role may do
    rid = _refer(world, "ps-city-3101")
    if accepted:
        world.desk.answer_referral(hq, CASE, rid, "accept")
        assert world.desk.view_case(hq, CASE)["view"] == "agency"
    world.desk.acknowledge(world.lead, CASE)
    world.desk.assign(world.lead, CASE, "TEST Investigator 01")
    world.desk.close(world.lead, CASE, "TEST outcome")
    for act in ACTS.values():
        with pytest.raises(CaseNotFound, match="not in the scope"):
            act(world.desk, hq)
    assert world.desk.list_cases(hq) == []
    view = world.desk.view_case(world.lead, CASE)
    assert [(r["id"], r["state"]) for r in view["referrals"]] == [(rid, "ended")]
    assert any(f"referral {rid} ended" in json.dumps(e, ensure_ascii=False) for e in view["events"])
    world.desk.reopen(world.lead, CASE, "TEST new evidence")
    with pytest.raises(CaseNotFound):  # reopening does not bring the referral back
        world.desk.view_case(hq, CASE)


def test_an_accepted_referral_may_read_note_and_give_services_but_not_lead(world):
    health = world.token("agency_duty_officer", "health-310115")
    rid = _refer(world, "health-310115")
    world.desk.answer_referral(health, CASE, rid, "accept")
    assert world.desk.view_case(health, CASE)["summary"] == SUMMARY
    world.desk.note(health, CASE, "TEST exam booked")
    for name in ("reporter", "acknowledge", "assign", "close"):
        with pytest.raises(Forbidden):
            ACTS[name](world.desk, health)
    assert _assign_duty(world).met_at is None, "a referred agency's assignment met the lead police's duty"
    allowed = world.desk.allowed_actions(health, CASE)
    assert "services" in allowed and "note" in allowed and not {"assign", "close", "reporter"} & allowed


def test_only_the_lead_police_assigns_and_meets_the_assign_duty(world):
    civil = world.token("agency_duty_officer", "ca-310115")  # routed by law, but not the lead
    world.desk.acknowledge(civil, CASE)
    with pytest.raises(Forbidden, match=f"only the lead agency \\({LEAD}\\)"):
        world.desk.assign(civil, CASE, "TEST Investigator 08")
    assert _assign_duty(world).met_at is None
    world.desk.acknowledge(world.lead, CASE)
    world.desk.assign(world.lead, CASE, "TEST Investigator 01")
    duty = _assign_duty(world)
    assert duty.met_at == world.clock.now() and duty.agency_id == LEAD
    with pytest.raises(Forbidden, match="only the lead agency"):
        world.desk.close(civil, CASE, "TEST outcome")
    assert world.desk.close(world.lead, CASE, "TEST outcome")["state"] == "closed"


def test_the_education_bureau_closes_a_bullying_case_it_is_responsible_for(world):
    world.open(open_case(2, category="bullying", risk="normal"))
    edu = world.token("agency_duty_officer", "edu-310115")
    world.desk.acknowledge(world.lead, "case-000002")
    world.desk.assign(world.lead, "case-000002", "TEST Investigator 02")
    assert world.desk.close(edu, "case-000002", "TEST resolved by school mediation")["state"] == "closed"
    with pytest.raises(Forbidden):
        world.desk.assign(edu, "case-000002", "TEST Investigator 03")


def test_reporter_identity_only_for_the_lead_police_and_every_reveal_audited(world):
    hq = world.token("police_duty_officer", "ps-city-3101")
    rid = _refer(world, "ps-city-3101")
    world.desk.answer_referral(hq, CASE, rid, "accept")
    with pytest.raises(Forbidden, match="lead"):
        world.desk.reporter(hq, CASE)
    for _ in range(2):
        shown = world.desk.reporter(world.lead, CASE)
        assert shown["name"] == REPORTER_NAME and shown["phone"] == REPORTER_PHONE
    with world.transaction() as s:
        reads = s.execute(select(AuditRecord).where(AuditRecord.action == "case.reporter.read")).scalars().all()
    assert [(r.subject, r.actor.split(":")[1]) for r in reads] == [(CASE, LEAD)] * 2
    assert ("denied.reporter", CASE, "Forbidden") in _denied(world)


def test_school_officer_sees_a_redacted_view_without_agency_notes(world):
    school = world.token("school_officer", SCHOOL)
    world.desk.note(world.lead, CASE, POLICE_NOTE)
    world.desk.acknowledge(world.lead, CASE, "TEST reason naming 张某")
    world.desk.assign(world.lead, CASE, "TEST Investigator 张警官")
    world.desk.note(school, CASE, "TEST parents informed")
    view = world.desk.view_case(school, CASE)
    listing = world.desk.list_cases(school)
    text = json.dumps([view, listing], ensure_ascii=False)
    for secret in (POLICE_NOTE, "张某", "张警官", REPORTER_NAME, REPORTER_PHONE, LEAD):
        assert secret not in text
    assert view["view"] == "school" and view["state"] == "investigating"
    assert [n["text"] for n in view["notes"]] == ["TEST parents informed"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(note=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=300)
       .map(lambda s: f"TEST⁣{s}\u200f\n張{s}🙂")  # zero-width, RTL mark, line break, full-width, emoji around it
       .filter(lambda s: s.strip() and not any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in s)))
def test_no_agency_note_ever_reaches_the_school_view(world, note):
    school = world.token("school_officer", SCHOOL)
    world.desk.note(world.lead, CASE, note)
    text = json.dumps([world.desk.view_case(school, CASE), world.desk.list_cases(school)], ensure_ascii=False)
    assert json.dumps(note.strip(), ensure_ascii=False)[1:-1] not in text


async def test_http_desk_applies_the_same_rules(world):
    hq = world.token("police_duty_officer", "ps-city-3101")
    rid = _refer(world, "ps-city-3101")
    async with TestClient(TestServer(build_app(world.desk))) as client:
        headers = {"Authorization": f"Bearer {hq}"}
        resp = await client.get(f"/cases/{CASE}/reporter", headers=headers)
        assert resp.status == 403
        resp = await client.post(f"/cases/{CASE}/referrals/{rid}/answer", json={"decision": "reject", "reason": "x"},
                                 headers=headers)
        assert resp.status == 200
        for method, path in (("GET", ""), ("GET", "/reporter"), ("POST", "/acknowledge"), ("POST", "/close")):
            resp = await client.request(method, f"/cases/{CASE}{path}", json={"outcome": "x"}, headers=headers)
            assert resp.status == 404, (method, path, await resp.text())


def test_cli_applies_the_same_rules(world, monkeypatch, capsys):
    monkeypatch.setenv("CHILDSAFE_DATABASE_URL", world.url)
    civil = world.token("agency_duty_officer", "ca-310115")
    world.desk.acknowledge(world.lead, CASE)
    assert main(["cases", "assign", CASE, "TEST Investigator 09", "--token", civil]) == 2
    assert f"only the lead agency ({LEAD})" in capsys.readouterr().err
    assert _assign_duty(world).met_at is None


def test_access_api_answers_without_a_token(world):
    """The console authenticates its own sessions: it asks the same functions with a Principal."""
    hq = access.Principal(token_id="console-session-1", role=access.Role.POLICE_DUTY_OFFICER, unit_id="ps-city-3101")
    lead = access.Principal(token_id="console-session-2", role=access.Role.POLICE_DUTY_OFFICER, unit_id=LEAD)
    _refer(world, "ps-city-3101")
    with world.transaction() as s:
        case = access.find_case(s, lead, CASE)
        assert access.standing(s, hq, case) == access.Standing.REFERRAL_PENDING
        assert access.allowed_actions(s, hq, case) == frozenset({"view", "answer_referral"})
        assert access.standing(s, lead, case) == access.Standing.LEAD
        assert {"assign", "close", "reporter"} <= access.allowed_actions(s, lead, case)
    assert world.desk.view_case(lead, CASE)["view"] == "agency"


@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x7f"])
def test_a_note_with_control_characters_is_refused_naming_the_field_not_stored(world, bad):
    """NUL made PostgreSQL raise DataError (a 500 on the desk); control characters are refused as input instead."""
    with pytest.raises(InvalidCaseInput) as refused:
        world.desk.note(world.lead, CASE, f"家访记录{bad}已完成")
    assert refused.value.errors[0].field == "text"
    assert "家访" not in str(refused.value)
