"""Who an audience selector means, read from the directory in keyset-paginated pages (memory stays flat).

Guardian selectors (a school's or a class's guardians): without ``guaranteed_reach`` every guardian of
every child in scope is told once; with it, each child's first guardian in contact order is told and
the next one is tried only if that fails (``next_guardians``), so each family is reached by one message.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, and_, func, literal, select

from consumers.store.core import Agency, DutyOfficer, School
from consumers.store.directory import ChildGuardian, Guardian, SchoolContact
from contracts.alert_request import (AgencyDutyOfficers, ClassGuardians, DistrictSchools, SchoolContacts,
                                     SchoolGuardians)
from contracts.errors import ChildSafeError

GUARDIAN, CONTACT, OFFICER = "g:", "sc:", "do:"


class UnsupportedAudience(ChildSafeError):
    """This selector is not resolved by the SMS fan-out yet (product holders: recall matching; schools in an
    area: CAP areas). The alert was dead-lettered with this reason; send it again once that part exists."""


@dataclass(frozen=True)
class Recipient:
    recipient_id: str  # "g:<guardian>", "sc:<school contact>", "do:<duty officer>"
    phone: str
    language: str
    contact_order: int = 0


def pages(engine: Engine, selector, *, guaranteed_reach: bool = False, after: str | None = None,
          size: int = 2000) -> Iterator[tuple[list[Recipient], str]]:
    """Yield (recipients, cursor) pages in id order; pass a page's cursor as ``after`` to resume after it."""
    query = _query(selector, guaranteed_reach)
    cursor = after or ""
    while True:
        with engine.connect() as conn:
            rows = conn.execute(query(cursor, size)).all()
        if not rows:
            return
        prefix = _prefix(selector)
        cursor = rows[-1][0]
        yield [Recipient(prefix + r[0], r[1], r[2], r[3]) for r in rows], cursor
        if len(rows) < size:
            return


def _prefix(selector) -> str:
    if isinstance(selector, (SchoolGuardians, ClassGuardians)):
        return GUARDIAN
    return OFFICER if isinstance(selector, AgencyDutyOfficers) else CONTACT


def _query(selector, guaranteed_reach: bool):
    if isinstance(selector, (SchoolGuardians, ClassGuardians)):
        cg = ChildGuardian
        scope = cg.school_id == selector.school_id
        if isinstance(selector, ClassGuardians):
            scope = and_(cg.class_id == selector.class_id, scope)
        if guaranteed_reach:
            scope = and_(scope, cg.contact_order == 0)
        def guardians(cursor: str, size: int):
            # group by the indexed column only, limit inside: each page is one index range scan
            page = (select(cg.guardian_id, func.min(cg.contact_order).label("contact_order"))
                    .where(scope, cg.guardian_id > cursor).group_by(cg.guardian_id)
                    .order_by(cg.guardian_id).limit(size).subquery())
            return (select(page.c.guardian_id, Guardian.phone, Guardian.language, page.c.contact_order)
                    .join(Guardian, Guardian.id == page.c.guardian_id).order_by(page.c.guardian_id))
        return guardians
    if isinstance(selector, SchoolContacts):
        return lambda cursor, size: (select(SchoolContact.id, SchoolContact.phone, SchoolContact.language,
                                      SchoolContact.contact_order)
                               .where(SchoolContact.school_id == selector.school_id, SchoolContact.id > cursor)
                               .order_by(SchoolContact.id).limit(size))
    if isinstance(selector, DistrictSchools):
        return lambda cursor, size: (select(SchoolContact.id, SchoolContact.phone, SchoolContact.language,
                                      SchoolContact.contact_order)
                               .join(School, School.id == SchoolContact.school_id)
                               .where(School.district_code == selector.district_code, SchoolContact.id > cursor)
                               .order_by(SchoolContact.id).limit(size))
    if isinstance(selector, AgencyDutyOfficers):
        kinds = [k.value for k in selector.agencies]
        return lambda cursor, size: (select(DutyOfficer.id, DutyOfficer.phone, literal("zh-CN"),
                                      DutyOfficer.contact_order)
                               .join(Agency, Agency.id == DutyOfficer.agency_id)
                               .where(Agency.kind.in_(kinds), Agency.district_code == selector.district_code,
                                      DutyOfficer.active.is_(True), DutyOfficer.id > cursor)
                               .order_by(DutyOfficer.id).limit(size))
    raise UnsupportedAudience(f"audience.kind: {getattr(selector, 'kind', type(selector).__name__)!r} is not "
                              "resolved by the SMS fan-out yet (product_holders belongs to recall matching, "
                              "schools_in_area to CAP area matching)")


def next_guardians(engine: Engine, guardian_id: str) -> list[Recipient]:
    """For each child this guardian is a contact of, the guardian next in that child's contact order."""
    me = ChildGuardian.__table__.alias("me")
    nxt = ChildGuardian.__table__.alias("nxt")
    first_after = (select(nxt.c.child_id, func.min(nxt.c.contact_order).label("contact_order"))
                   .join(me, and_(me.c.child_id == nxt.c.child_id, nxt.c.contact_order > me.c.contact_order))
                   .where(me.c.guardian_id == guardian_id).group_by(nxt.c.child_id).subquery())
    query = (select(Guardian.id, Guardian.phone, Guardian.language, first_after.c.contact_order)
             .join(nxt, Guardian.id == nxt.c.guardian_id)
             .join(first_after, and_(first_after.c.child_id == nxt.c.child_id,
                                     first_after.c.contact_order == nxt.c.contact_order)))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    seen: dict[str, Recipient] = {}
    for r in rows:
        seen.setdefault(r[0], Recipient(GUARDIAN + r[0], r[1], r[2], r[3]))
    return sorted(seen.values(), key=lambda r: r.recipient_id)
