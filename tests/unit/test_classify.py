"""Classification rules against DOMAIN.md: every category, each of the nine situations, the agencies."""

from __future__ import annotations

import pytest

from contracts.cases import CaseRisk
from contracts.classify import classify
from contracts.common import AgencyKind as A
from contracts.common import Priority
from contracts.incident import IncidentCategory as C
from contracts.incident import IncidentReported
from contracts.incident import MandatorySituation as S
from tests.factories import incident

MANDATORY_THREE = {A.PUBLIC_SECURITY, A.CIVIL_AFFAIRS, A.EDUCATION}


def report(**changes) -> IncidentReported:
    return IncidentReported.model_validate(incident(**changes))


# category, severity, danger now, children -> (mandatory?, audiences notified)
CATEGORY_CASES = [
    (C.TRAFFIC, "moderate", False, None, False, set()),
    (C.TRAFFIC, "serious", False, None, False, {"school_contacts"}),
    (C.DROWNING, "critical", True, None, False, {"agency_duty_officers", "school_contacts"}),
    (C.FALL, "minor", False, None, False, set()),
    (C.BURN_SCALD, "moderate", False, None, False, set()),
    (C.FOOD_POISONING, "moderate", False, None, False, {"agency_duty_officers"}),
    (C.POISONING_OTHER, "critical", False, None, True, set()),
    (C.BULLYING, "moderate", False, None, False, set()),
    (C.BULLYING, "serious", False, None, True, set()),
    (C.ABUSE_HARM, "moderate", False, None, True, set()),
    (C.SEXUAL_ASSAULT, "serious", False, [{"age": 12, "sex": "female"}], True, set()),
    (C.MISSING_CHILD, "critical", True, [{"age": 6, "sex": "male"}], True, {"school_contacts"}),
    (C.TRAFFICKING, "critical", False, None, True, set()),
    (C.SELF_HARM, "moderate", False, None, False, set()),
    (C.SELF_HARM, "critical", False, None, True, set()),
    (C.CAMPUS_INTRUSION_VIOLENCE, "critical", True, [], True, {"school_guardians"}),
    (C.CAMPUS_INTRUSION_VIOLENCE, "minor", False, [], False, set()),
    (C.SCHOOL_BUS_INCIDENT, "serious", False, None, False, {"school_contacts"}),
    (C.FACILITY_HAZARD, "moderate", False, [], False, set()),
    (C.FIRE, "serious", False, [], False, {"school_guardians", "agency_duty_officers"}),
    (C.NATURAL_DISASTER, "critical", False, [], False, {"school_guardians", "agency_duty_officers"}),
    (C.PUBLIC_HEALTH_EMERGENCY, "serious", False, [], False, {"school_guardians", "agency_duty_officers"}),
    (C.OTHER, "minor", False, None, False, set()),
]


@pytest.mark.parametrize("category,severity,danger,children,mandatory,audiences", CATEGORY_CASES,
                         ids=[f"{c.value}-{s}-{'danger' if d else 'calm'}" for c, s, d, *_ in CATEGORY_CASES])
def test_each_category(category, severity, danger, children, mandatory, audiences):
    changes = {"category": category.value, "severity": severity, "child_in_danger_now": danger}
    if children is not None:
        changes["children"] = children
    t = classify(report(**changes))
    assert t.mandatory is mandatory, t.triggers
    assert {n.audience for n in t.notices} == audiences
    if mandatory:
        assert MANDATORY_THREE <= set(t.agencies)


def test_every_category_is_covered_by_a_case():
    assert {c for c, *_ in CATEGORY_CASES} == set(C)


@pytest.mark.parametrize("situation", list(S), ids=lambda s: f"situation_{s.value}")
def test_each_ticked_situation_opens_a_mandatory_case(situation):
    t = classify(report(mandatory_situations=[situation.value]))
    assert t.mandatory
    assert situation in t.situations
    assert f"ticked:situation_{situation.value}" in t.triggers
    assert MANDATORY_THREE <= set(t.agencies) and t.agencies[0] is A.PUBLIC_SECURITY


@pytest.mark.parametrize("situation,high", [(S.PRIVATE_PARTS_INJURY, True), (S.ORGANISED_BEGGING, True),
                                            (S.UNKNOWN_ORIGIN_MISSING_TRAFFICKED, True),
                                            (S.ABANDONMENT_OR_NO_CARE, False), (S.OTHER_SERIOUS_HARM_OR_DANGER, False)])
def test_risk_follows_the_situation(situation, high):
    t = classify(report(mandatory_situations=[situation.value]))
    assert t.risk is (CaseRisk.HIGH if high else CaseRisk.NORMAL)


def test_sexual_assault_of_a_girl_under_14_implies_situation_2_and_the_womens_federation():
    t = classify(report(category="sexual_assault", severity="serious", children=[{"age": 13, "sex": "female"}]))
    assert S.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY in t.situations
    assert A.WOMENS_FEDERATION in t.agencies
    assert t.risk is CaseRisk.HIGH


def test_pregnancy_at_14_or_over_after_assault_implies_situation_3():
    t = classify(report(category="sexual_assault", severity="serious",
                        children=[{"age": 15, "sex": "female", "pregnant": True}]))
    assert S.GIRL_14_PLUS_PREGNANCY_FROM_ASSAULT in t.situations


def test_a_pregnant_girl_under_14_is_situation_2_whatever_the_category():
    t = classify(report(category="other", children=[{"age": 13, "sex": "female", "pregnant": True}]))
    assert S.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY in t.situations


def test_missing_and_trafficked_children_imply_situation_7():
    for category in ("missing_child", "trafficking"):
        assert S.UNKNOWN_ORIGIN_MISSING_TRAFFICKED in classify(report(category=category)).situations


def test_poisoning_routes_health_too():
    t = classify(report(category="poisoning_other", severity="critical"))
    assert A.HEALTH in t.agencies and S.DISABILITY_OR_DEATH_ABNORMAL_CAUSE in t.situations


def test_a_child_in_danger_of_unlawful_harm_is_situation_9_and_a_high_risk_case():
    """The police hear of it through the case workflow's emergency duty alert, not twice."""
    t = classify(report(category="bullying", severity="moderate", child_in_danger_now=True))
    assert S.OTHER_SERIOUS_HARM_OR_DANGER in t.situations and t.risk is CaseRisk.HIGH
    assert [n.audience for n in t.notices] == ["school_contacts"]


def test_a_child_in_danger_without_a_case_is_told_to_the_police_directly():
    t = classify(report(category="drowning", severity="serious", child_in_danger_now=True))
    police = [n for n in t.notices if n.audience == "agency_duty_officers"]
    assert not t.mandatory and police[0].priority is Priority.EMERGENCY
    assert {A.PUBLIC_SECURITY, A.HEALTH} <= set(police[0].agencies)


def test_school_emergency_tells_guardians_at_emergency_priority():
    t = classify(report(category="fire", severity="serious", children=[]))
    guardians = [n for n in t.notices if n.audience == "school_guardians"]
    assert guardians[0].priority is Priority.EMERGENCY


def test_an_ordinary_minor_accident_is_recorded_only():
    t = classify(report())
    assert not t.mandatory and not t.notices and t.agencies == ()
