"""Where a message's recipient lives: the district an SMS ledger row is counted in by the province's indicators.

A guardian's district is their children's first school's (the smallest school id among their child links), a
school contact's their school's, a duty officer's their agency's. The SMS ledger records it when the row is
written (`consumers.sms.ledger.SmsLedger.claim_new`), so the indicators group a month's messages by a column
instead of joining each recipient back through the directory. A recipient not in the directory has no district.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from consumers.directory.audience import CONTACT, GUARDIAN, OFFICER
from consumers.store.core import Agency, DutyOfficer, School
from consumers.store.directory import ChildGuardian, SchoolContact

CHUNK = 500  # ids per IN list (SQLite's bound-parameter limit is far above; plans stay index range scans)


def recipient_districts(conn: Connection, recipient_ids: Iterable[str]) -> dict[str, str]:
    """Recipient id ("g:…", "sc:…", "do:…") → district code, for those the directory places; the others absent."""
    by_kind: dict[str, set[str]] = {GUARDIAN: set(), CONTACT: set(), OFFICER: set()}
    for rid in recipient_ids:
        for prefix, ids in by_kind.items():
            if rid.startswith(prefix):
                ids.add(rid[len(prefix):])
    out: dict[str, str] = {}
    for prefix, ids in by_kind.items():
        ordered = sorted(ids)
        for n in range(0, len(ordered), CHUNK):
            chunk = ordered[n:n + CHUNK]
            out.update((prefix + rid, district) for rid, district in conn.execute(_query(prefix, chunk)) if district)
    return out


def _query(prefix: str, ids: list[str]):
    if prefix == GUARDIAN:  # index-only on (guardian_id, school_id), then one school row each
        first = (select(ChildGuardian.guardian_id.label("rid"), func.min(ChildGuardian.school_id).label("school_id"))
                 .where(ChildGuardian.guardian_id.in_(ids)).group_by(ChildGuardian.guardian_id).subquery())
        return select(first.c.rid, School.district_code).join(School, School.id == first.c.school_id)
    if prefix == CONTACT:
        return (select(SchoolContact.id, School.district_code).join(School, School.id == SchoolContact.school_id)
                .where(SchoolContact.id.in_(ids)))
    return (select(DutyOfficer.id, Agency.district_code).join(Agency, Agency.id == DutyOfficer.agency_id)
            .where(DutyOfficer.id.in_(ids)))
