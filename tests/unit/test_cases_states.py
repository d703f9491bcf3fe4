"""The state machine and referrals: legal steps recorded with who/when/what/why; illegal ones refused clearly."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consumers.cases.errors import IllegalTransition, InvalidCaseInput, ReferralError
from consumers.cases.models import CaseEvent
from consumers.cases.states import NEXT, CaseState, check_transition
from tests.cases_fixtures import CaseWorld, open_case


def test_every_illegal_step_names_the_states():
    for current in CaseState:
        for target in CaseState:
            if target in NEXT[current]:
                assert check_transition("c1", current.value, target) == current
            else:
                with pytest.raises(IllegalTransition, match=f"from '{current.value}' to '{target.value}'"):
                    check_transition("c1", current.value, target)


@pytest.fixture()
def world(db_url):
    w = CaseWorld(db_url)
    yield w
    w.close()


def test_full_lifecycle_with_referral_and_reopen(world):
    world.open(open_case(1))
    police = world.token("police_duty_officer", "ps-310115")
    with pytest.raises(IllegalTransition, match="from 'forwarded' to 'closed'"):
        world.desk.close(police, "case-000001", "nothing to do")
    with pytest.raises(IllegalTransition, match="from 'forwarded' to 'investigating'"):
        world.desk.assign(police, "case-000001", "Test Investigator 01")
    assert world.desk.acknowledge(police, "case-000001", "on it")["state"] == "acknowledged"
    with pytest.raises(IllegalTransition, match="already acknowledged"):
        world.desk.acknowledge(police, "case-000001")
    world.desk.assign(police, "case-000001", "Test Investigator 01", "duty roster")
    world.desk.note(police, "case-000001", "TEST note: family visited")
    referral = world.desk.refer(police, "case-000001", "health-310115", "needs a medical examination")
    health = world.token("agency_duty_officer", "health-310115")
    with pytest.raises(InvalidCaseInput, match="reason"):
        world.desk.answer_referral(health, "case-000001", referral["referral_id"], "reject", "")
    with pytest.raises(ReferralError, match="only it may answer"):
        world.desk.answer_referral(police, "case-000001", referral["referral_id"], "accept")
    world.desk.answer_referral(health, "case-000001", referral["referral_id"], "accept")
    with pytest.raises(IllegalTransition, match="referral .* from 'accepted' to 'rejected'"):
        world.desk.answer_referral(health, "case-000001", referral["referral_id"], "reject", "changed mind")
    world.desk.answer_referral(health, "case-000001", referral["referral_id"], "complete")
    second = world.desk.refer(police, "case-000001", "wf-310115", "counselling support")
    world.desk.answer_referral(world.token("agency_duty_officer", "wf-310115"), "case-000001",
                               second["referral_id"], "reject", "no capacity this week")
    world.desk.start_services(police, "case-000001", "counselling", "child needs support")
    assert world.desk.close(police, "case-000001", "referred to court; child safe")["state"] == "closed"
    with pytest.raises(InvalidCaseInput, match="reason"):
        world.desk.reopen(police, "case-000001", "  ")
    assert world.desk.reopen(police, "case-000001", "new evidence")["state"] == "investigating"
    view = world.desk.view_case(police, "case-000001")
    assert [r["state"] for r in view["referrals"]] == ["completed", "rejected"]
    assert view["referrals"][1]["answer_reason"] == "no capacity this week"
    with world.transaction() as s:
        events = s.execute(select(CaseEvent).where(CaseEvent.case_id == "case-000001").order_by(CaseEvent.id)).scalars().all()
        steps = [(e.from_state, e.to_state) for e in events if e.kind == "transition"]
        assert steps == [(None, "reported"), ("reported", "forwarded"), ("forwarded", "acknowledged"),
                         ("acknowledged", "investigating"), ("investigating", "services"), ("services", "closed"),
                         ("closed", "investigating")]
        assert all(e.actor and e.at and e.what for e in events)
        closing = [e for e in events if e.to_state == "closed"][0]
        assert closing.actor.startswith("police_duty_officer:ps-310115:") and "court" in closing.what


def test_referred_agency_sees_the_case_other_agencies_do_not(world):
    world.open(open_case(1))
    police = world.token("police_duty_officer", "ps-310115")
    health = world.token("agency_duty_officer", "health-310115")
    assert world.desk.list_cases(health) == []  # abuse case: health not routed
    world.desk.refer(police, "case-000001", "health-310115", "medical examination")
    assert [c["case_id"] for c in world.desk.list_cases(health)] == ["case-000001"]
