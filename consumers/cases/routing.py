"""Which agencies a case goes to: the rule table triage uses too (contracts/agency_rules.py) plus what triage named."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consumers.store.core import Agency
from contracts.agency_rules import case_agencies
from contracts.cases import OpenCase
from contracts.common import AgencyKind


def agency_kinds(command: OpenCase) -> list[AgencyKind]:
    """What triage named, and what the shared rule table says for the case's category and situations (a
    command from an older producer still reaches every agency the table names)."""
    return sorted({*command.agencies, *case_agencies(command.category, command.situations)})


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
