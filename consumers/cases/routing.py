"""Which agencies a case goes to: the law's minimum (Minor Protection Law art. 11) plus what triage named."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consumers.store.core import Agency
from contracts.cases import OpenCase
from contracts.common import AgencyKind
from contracts.incident import IncidentCategory, MandatorySituation

HEALTH_CATEGORIES = frozenset({IncidentCategory.FOOD_POISONING, IncidentCategory.POISONING_OTHER,
                               IncidentCategory.PUBLIC_HEALTH_EMERGENCY})
WOMENS_FEDERATION_CATEGORIES = frozenset({IncidentCategory.SEXUAL_ASSAULT, IncidentCategory.TRAFFICKING,
                                          IncidentCategory.ABUSE_HARM})
WOMENS_FEDERATION_SITUATIONS = frozenset({MandatorySituation.PRIVATE_PARTS_INJURY,
                                          MandatorySituation.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY,
                                          MandatorySituation.GIRL_14_PLUS_PREGNANCY_FROM_ASSAULT})


def agency_kinds(command: OpenCase) -> list[AgencyKind]:
    """Public security always; civil affairs and education for every mandatory case; health, women's federation."""
    kinds = {AgencyKind.PUBLIC_SECURITY, AgencyKind.CIVIL_AFFAIRS, AgencyKind.EDUCATION, *command.agencies}
    if command.category in HEALTH_CATEGORIES:
        kinds.add(AgencyKind.HEALTH)
    if command.category in WOMENS_FEDERATION_CATEGORIES or WOMENS_FEDERATION_SITUATIONS & set(command.situations):
        kinds.add(AgencyKind.WOMENS_FEDERATION)
    return sorted(kinds)


def district_agencies(session: Session, kinds: list[AgencyKind], district_code: str) -> dict[AgencyKind, Agency]:
    """The agency of each kind in the district (first by id if several); kinds without one are left out."""
    rows = session.execute(select(Agency).where(Agency.kind.in_([k.value for k in kinds]),
                                                Agency.district_code == district_code)
                           .order_by(Agency.id)).scalars()
    found: dict[AgencyKind, Agency] = {}
    for row in rows:
        found.setdefault(AgencyKind(row.kind), row)
    return found


def education_bureau(session: Session, district_code: str) -> Agency | None:
    return district_agencies(session, [AgencyKind.EDUCATION], district_code).get(AgencyKind.EDUCATION)
