"""Every clock on a fake clock: forward, acknowledge, assign (by risk), bullying close; escalation steps, breaches."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from consumers.cases.escalation import EscalationRunner
from consumers.cases.models import CaseDeadline
from consumers.store.db import make_engine, session_factory
from tests.cases_fixtures import CaseWorld, open_case


@pytest.fixture()
def world(db_url):
    w = CaseWorld(db_url)
    yield w
    w.close()


def _deadline(world, case_id, duty, agency=None):
    with world.transaction() as s:
        q = select(CaseDeadline).where(CaseDeadline.case_id == case_id, CaseDeadline.duty == duty)
        if agency:
            q = q.where(CaseDeadline.agency_id == agency)
        return s.execute(q).scalar_one()


def test_forward_missed_escalates_to_supervisor_then_education_bureau(world):
    world.open(open_case(1), forward=False)  # the outbox never reaches the broker
    world.clock.advance(timedelta(minutes=14, seconds=59))
    assert world.runner.tick() == []
    world.clock.advance(timedelta(seconds=1))
    [first] = world.runner.tick()
    assert (first.duty, first.level, first.target_agency_id) == ("forward", 1, "ps-city-3101")
    assert _deadline(world, "case-000001", "forward").breached_at == world.clock.now()
    world.clock.advance(timedelta(minutes=59))
    assert [e for e in world.runner.tick() if e.duty == "forward"] == []  # (the 1-hour assign clock fires here)
    world.clock.advance(timedelta(minutes=1))
    [second] = [e for e in world.runner.tick() if e.duty == "forward"]
    assert (second.level, second.target_agency_id) == (2, "edu-310115")
    world.clock.advance(timedelta(days=3))
    assert [e for e in world.runner.tick() if e.duty == "forward"] == []  # the last step was the education bureau
    world.relay.publish_pending()
    escalations = world.alerts("case_escalation")
    assert sorted((a.audience.agencies[0], a.audience.district_code) for a in escalations
                  if a.params["duty"] == "forward") == [("education", "310115"), ("public_security", "310100")]
    assert all(a.priority == "emergency" for a in escalations)  # high risk


def test_acknowledge_clock_per_agency_and_breach_stays_visible_after_late_ack(world):
    world.open(open_case(1))
    police = world.token("police_duty_officer", "ps-310115")
    civil = world.token("agency_duty_officer", "ca-310115")
    world.clock.advance(timedelta(minutes=30))
    world.desk.acknowledge(police, "case-000001")
    world.desk.assign(police, "case-000001", "Test Investigator 01")
    world.clock.advance(timedelta(minutes=30))  # one hour after forwarding
    fired = world.runner.tick()
    assert {(e.duty, e.target_agency_id) for e in fired} == {
        ("acknowledge", "edu-city-3101"),  # education's supervisor
        ("acknowledge", "edu-310115"),  # civil affairs and the women's federation have no supervisor
    }
    assert len([e for e in fired if e.target_agency_id == "edu-310115"]) == 2
    assert _deadline(world, "case-000001", "acknowledge", "ps-310115").breached_at is None
    world.clock.advance(timedelta(minutes=5))
    world.desk.acknowledge(civil, "case-000001")
    late = _deadline(world, "case-000001", "acknowledge", "ca-310115")
    assert late.met_at is not None and late.breached_at is not None
    listed = world.desk.list_cases(police, breached=True)
    assert [c["case_id"] for c in listed] == ["case-000001"]
    assert {b["agency_id"] for b in listed[0]["breaches"]} == {"ca-310115", "edu-310115", "wf-310115"}


@pytest.mark.parametrize("risk,limit", [("high", timedelta(hours=1)), ("normal", timedelta(hours=3))])
def test_assign_clock_depends_on_risk(world, risk, limit):
    world.open(open_case(1, risk=risk))
    police = world.token("police_duty_officer", "ps-310115")
    world.desk.acknowledge(police, "case-000001")
    for agency in ("ca-310115", "edu-310115", "wf-310115"):
        world.desk.acknowledge(world.token("agency_duty_officer", agency), "case-000001")
    world.clock.advance(limit - timedelta(seconds=1))
    assert world.runner.tick() == []
    world.clock.advance(timedelta(seconds=1))
    assert [(e.duty, e.level) for e in world.runner.tick()] == [("assign", 1)]
    world.desk.assign(police, "case-000001", "Test Investigator 02")
    world.clock.advance(timedelta(hours=5))
    assert world.runner.tick() == []  # met (late): no further escalation, breach kept
    assert _deadline(world, "case-000001", "assign").breached_at is not None


def test_bullying_investigation_must_close_within_ten_days(world):
    world.open(open_case(2, category="bullying", risk="normal"))
    police = world.token("police_duty_officer", "ps-310115")
    for token in [police] + [world.token("agency_duty_officer", a) for a in ("ca-310115", "edu-310115")]:
        world.desk.acknowledge(token, "case-000002")
    world.desk.assign(police, "case-000002", "Test Investigator 03")
    world.clock.advance(timedelta(days=10) - timedelta(seconds=1))
    assert world.runner.tick() == []
    world.clock.advance(timedelta(seconds=1))
    [esc] = world.runner.tick()
    assert (esc.duty, esc.level, esc.target_agency_id) == ("close", 1, "edu-city-3101")
    world.desk.close(police, "case-000002", "resolved with both families informed")
    world.clock.advance(timedelta(hours=2))
    assert world.runner.tick() == []
    assert _deadline(world, "case-000002", "close").breached_at is not None


def test_non_bullying_cases_get_no_close_clock(world):
    world.open(open_case(3), forward=False)
    with world.transaction() as s:
        duties = sorted(s.execute(select(CaseDeadline.duty).where(CaseDeadline.case_id == "case-000003")).scalars())
    assert duties == ["assign", "forward"]


def test_deadlines_survive_a_restart(world):
    """Clocks live in the database: a new runner on a new engine escalates what the old one left."""
    world.open(open_case(4), forward=False)
    world.close()
    engine = make_engine(world.url)
    runner = EscalationRunner(session_factory(engine), world.clock, world.policy, world.topics.alerts)
    world.clock.advance(timedelta(minutes=15))
    assert [e.duty for e in runner.tick()] == ["forward"]
    engine.dispose()
