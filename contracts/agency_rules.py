"""Which agencies act on an incident: the one rule table triage (streams) and case routing (consumers) read.

DOMAIN.md: every mandatory case goes to public security, civil affairs and education (Minor Protection Law
art. 11); food poisoning at a school to health, education and market regulation (food safety); a school-bus
accident to public security and education; a disaster to emergency management and education.
"""

from __future__ import annotations

from collections.abc import Iterable

from contracts.common import AgencyKind as A
from contracts.incident import IncidentCategory as C
from contracts.incident import MandatorySituation as S

MANDATORY = (A.PUBLIC_SECURITY, A.CIVIL_AFFAIRS, A.EDUCATION)
"""Every mandatory-report case, whatever else applies (public security 立即)."""

BY_CATEGORY: dict[C, tuple[A, ...]] = {
    C.FOOD_POISONING: (A.HEALTH, A.EDUCATION, A.MARKET_REGULATION),
    C.POISONING_OTHER: (A.PUBLIC_SECURITY, A.HEALTH),
    C.PUBLIC_HEALTH_EMERGENCY: (A.HEALTH, A.EDUCATION),
    C.SELF_HARM: (A.PUBLIC_SECURITY, A.HEALTH),
    C.DROWNING: (A.PUBLIC_SECURITY, A.HEALTH),
    C.BURN_SCALD: (A.PUBLIC_SECURITY, A.HEALTH),
    C.SEXUAL_ASSAULT: (A.PUBLIC_SECURITY, A.WOMENS_FEDERATION),
    C.TRAFFICKING: (A.PUBLIC_SECURITY, A.WOMENS_FEDERATION),
    C.ABUSE_HARM: (A.PUBLIC_SECURITY, A.WOMENS_FEDERATION),
    C.CAMPUS_INTRUSION_VIOLENCE: (A.PUBLIC_SECURITY, A.EDUCATION),
    C.SCHOOL_BUS_INCIDENT: (A.PUBLIC_SECURITY, A.EDUCATION),
    C.FIRE: (A.EMERGENCY_MANAGEMENT, A.EDUCATION),
    C.NATURAL_DISASTER: (A.EMERGENCY_MANAGEMENT, A.EDUCATION),
}
"""Agencies that act on a category; categories not listed go to public security alone when a child is in danger."""

BY_SITUATION: dict[S, tuple[A, ...]] = {
    S.PRIVATE_PARTS_INJURY: (A.WOMENS_FEDERATION,),
    S.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY: (A.WOMENS_FEDERATION,),
    S.GIRL_14_PLUS_PREGNANCY_FROM_ASSAULT: (A.WOMENS_FEDERATION,),
    S.DISABILITY_OR_DEATH_ABNORMAL_CAUSE: (A.HEALTH,),
}

TOLD_ON_EVERY_REPORT = frozenset({C.FOOD_POISONING})
"""Categories whose agencies are told of every report, not only a serious one (school food safety)."""


def _ordered(kinds: Iterable[A]) -> tuple[A, ...]:
    return tuple(dict.fromkeys(kinds))


def category_agencies(category: C) -> tuple[A, ...]:
    """Who acts on ``category`` outside a mandatory case (public security when the table names no one)."""
    return BY_CATEGORY.get(category, (A.PUBLIC_SECURITY,))


def case_agencies(category: C, situations: Iterable[S]) -> tuple[A, ...]:
    """Who a mandatory-report case goes to: the law's three, then the category's and the situations' agencies."""
    return _ordered([*MANDATORY, *BY_CATEGORY.get(category, ()), *(a for s in sorted(situations)
                                                                   for a in BY_SITUATION.get(s, ()))])
