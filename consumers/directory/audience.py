"""Who an audience selector means, read from the directory in keyset-paginated pages (memory stays flat).

Guardian selectors (a school's or a class's guardians): without ``guaranteed_reach`` every guardian of
every child in scope is told once; with it, each child's first guardian in contact order is told and
the next one is tried only if that fails (``next_guardians``), so each family is reached by one message.
Selectors naming guardians and schools at once (``recall_holders``, ``school_list``) are read source by
source in recipient-id order (``g:`` before ``sc:``); their cursor is the last full recipient id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Engine, and_, func, literal, select

from consumers.store.core import Agency, DutyOfficer, School
from consumers.store.directory import ChildGuardian, Guardian, SchoolContact
from contracts.alert_request import (
    AgencyDutyOfficers,
    ClassGuardians,
    DistrictSchools,
    RecallHolders,
    SchoolContacts,
    SchoolGuardians,
    SchoolList,
)
from contracts.errors import ChildSafeError

GUARDIAN, CONTACT, OFFICER = "g:", "sc:", "do:"


class UnsupportedAudience(ChildSafeError):
    """The SMS fan-out does not resolve this selector: ``product_holders`` and ``schools_in_area`` are resolved
    upstream by the streams layer into ``recall_holders`` / ``school_list``. The alert was dead-lettered with
    this reason; have its producer send the resolved selector instead."""


@dataclass(frozen=True)
class Recipient:
    recipient_id: str  # "g:<guardian>", "sc:<school contact>", "do:<duty officer>"
    phone: str
    language: str
    contact_order: int = 0


def pages(engine: Engine, selector, *, guaranteed_reach: bool = False, after: str | None = None,
          size: int = 2000) -> Iterator[tuple[list[Recipient], str]]:
    """Yield (recipients, cursor) pages in recipient-id order; pass a page's cursor as ``after`` to resume."""
    sources = _sources(selector, guaranteed_reach)
    single = len(sources) == 1
    for n, (prefix, query) in enumerate(sources):
        cursor = _start(sources, n, after, single)
        if cursor is None:
            continue
        while True:
            with engine.connect() as conn:
                rows = conn.execute(query(cursor, size)).all()
            if not rows:
                break
            cursor = rows[-1][0]
            yield ([Recipient(prefix + r[0], r[1], r[2], r[3]) for r in rows],
                   cursor if single else prefix + cursor)
            if len(rows) < size:
                break


def _start(sources, n: int, after: str | None, single: bool) -> str | None:
    """Where source ``n`` starts given a saved cursor: "" from its beginning, None when it is already done.
    A one-source selector keeps the plain id as its cursor (as cursors saved before multi-source ones)."""
    if not after:
        return ""
    if single:
        return after
    prefixes = [p for p, _ in sources]
    current = next((i for i, p in enumerate(prefixes) if after.startswith(p)), len(prefixes))
    if n < current:
        return None
    return after[len(prefixes[n]):] if n == current else ""


def _sources(selector, guaranteed_reach: bool) -> list[tuple[str, Callable]]:
    """(recipient-id prefix, page query) per source, in prefix order, so recipient ids only ever grow."""
    if isinstance(selector, (SchoolGuardians, ClassGuardians)):
        scope = ChildGuardian.school_id == selector.school_id
        if isinstance(selector, ClassGuardians):
            scope = and_(ChildGuardian.class_id == selector.class_id, scope)
        return [(GUARDIAN, _guardians_of(scope, guaranteed_reach))]
    if isinstance(selector, SchoolContacts):
        return [(CONTACT, _contacts_where(SchoolContact.school_id == selector.school_id))]
    if isinstance(selector, DistrictSchools):
        return [(CONTACT, _contacts_where(School.district_code == selector.district_code, join_school=True))]
    if isinstance(selector, AgencyDutyOfficers):
        kinds = [k.value for k in selector.agencies]
        return [(OFFICER, lambda cursor, size: (
            select(DutyOfficer.id, DutyOfficer.phone, literal("zh-CN"), DutyOfficer.contact_order)
            .join(Agency, Agency.id == DutyOfficer.agency_id)
            .where(Agency.kind.in_(kinds), Agency.district_code == selector.district_code,
                   DutyOfficer.active.is_(True), DutyOfficer.id > cursor)
            .order_by(DutyOfficer.id).limit(size)))]
    if isinstance(selector, RecallHolders):
        sources = []
        if selector.guardian_ids:  # the guardians who registered the product themselves
            ids = sorted(set(selector.guardian_ids))
            sources.append((GUARDIAN, lambda cursor, size: (
                select(Guardian.id, Guardian.phone, Guardian.language, literal(0))
                .where(Guardian.id.in_(ids), Guardian.id > cursor).order_by(Guardian.id).limit(size))))
        if selector.school_ids:  # schools that procured it: their contacts
            sources.append((CONTACT, _contacts_where(SchoolContact.school_id.in_(sorted(set(selector.school_ids))))))
        return sources
    if isinstance(selector, SchoolList):
        schools = sorted(set(selector.school_ids))
        sources = []
        if selector.include_guardians:
            sources.append((GUARDIAN, _guardians_of(ChildGuardian.school_id.in_(schools), guaranteed_reach)))
        sources.append((CONTACT, _contacts_where(SchoolContact.school_id.in_(schools))))
        return sources
    raise UnsupportedAudience(f"audience.kind: {getattr(selector, 'kind', type(selector).__name__)!r} is not "
                              "resolved by the SMS fan-out (product_holders is resolved by recall matching into "
                              "recall_holders, schools_in_area by CAP area matching into school_list)")


def _guardians_of(scope, guaranteed_reach: bool) -> Callable:
    cg = ChildGuardian
    if guaranteed_reach:
        scope = and_(scope, cg.contact_order == 0)

    def guardians(cursor: str, size: int):
        # group by the indexed column only, limit inside: each page is one index range scan (per school)
        page = (select(cg.guardian_id, func.min(cg.contact_order).label("contact_order"))
                .where(scope, cg.guardian_id > cursor).group_by(cg.guardian_id)
                .order_by(cg.guardian_id).limit(size).subquery())
        return (select(page.c.guardian_id, Guardian.phone, Guardian.language, page.c.contact_order)
                .join(Guardian, Guardian.id == page.c.guardian_id).order_by(page.c.guardian_id))
    return guardians


def _contacts_where(condition, join_school: bool = False) -> Callable:
    def contacts(cursor: str, size: int):
        query = select(SchoolContact.id, SchoolContact.phone, SchoolContact.language, SchoolContact.contact_order)
        if join_school:
            query = query.join(School, School.id == SchoolContact.school_id)
        return query.where(condition, SchoolContact.id > cursor).order_by(SchoolContact.id).limit(size)
    return contacts


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
