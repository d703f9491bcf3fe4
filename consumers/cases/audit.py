"""Append-only, hash-chained audit trail of every case action and read; `verify` names any tampering.

Each record's hash covers its content and the previous record's hash; a head row holds the last
sequence number and hash, so deleting the newest records is detected too.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import JSON, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base

GENESIS = "0" * 64


class AuditRecord(Base):
    """Who did what to which subject, when, with what outcome; never names, phone numbers or report text."""

    __tablename__ = "case_audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(128), index=True)
    outcome: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The chain's tip (one row): appenders lock it, so records are chained one at a time."""

    __tablename__ = "case_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


def record_hash(seq: int, at: datetime, actor: str, action: str, subject: str, outcome: str, details: dict,
                prev_hash: str) -> str:
    body = {"seq": seq, "at": at.astimezone(UTC).isoformat(timespec="microseconds"), "actor": actor,
            "action": action, "subject": subject, "outcome": outcome, "details": details, "prev": prev_hash}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()).hexdigest()


def append(session: Session, *, at: datetime, actor: str, action: str, subject: str, outcome: str = "ok",
           details: dict | None = None) -> AuditRecord:
    """Chain one record onto the trail, inside the caller's transaction (so it commits with the action).

    The head row is locked once per transaction and kept in `session.info`, so a batch chains in memory.
    """
    head = session.info.get("audit_head")
    if head is None:
        head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
        if head is None:
            head = AuditHead(id=1, last_seq=0, last_hash=GENESIS)
            session.add(head)
        session.info["audit_head"] = head
    details = dict(details or {})
    seq = head.last_seq + 1
    digest = record_hash(seq, at, actor, action, subject, outcome, details, head.last_hash)
    record = AuditRecord(seq=seq, at=at, actor=actor, action=action, subject=subject, outcome=outcome,
                         details=details, prev_hash=head.last_hash, hash=digest)
    session.add(record)
    head.last_seq, head.last_hash = seq, digest
    return record


@dataclass
class AuditVerdict:
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    head_hash: str = GENESIS
    anchored: int = 0  # records checked against anchors on the audit topic (consumers/cases/anchor.py)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> AuditVerdict:
    """Walk the chain; name every edited, deleted or re-linked record."""
    verdict = AuditVerdict()
    expected_prev, expected_seq = GENESIS, 1
    for rec in session.execute(select(AuditRecord).order_by(AuditRecord.seq)).scalars():
        verdict.checked += 1
        if rec.seq != expected_seq:
            missing = f"{expected_seq}" if rec.seq == expected_seq + 1 else f"{expected_seq}..{rec.seq - 1}"
            verdict.problems.append(f"record(s) {missing} deleted (chain jumps to {rec.seq})")
        elif rec.prev_hash != expected_prev:
            verdict.problems.append(f"record {rec.seq}: previous-hash link broken")
        actual = record_hash(rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.outcome, rec.details,
                             rec.prev_hash)
        if actual != rec.hash:
            verdict.problems.append(f"record {rec.seq} edited ({rec.action} on {rec.subject}): hash mismatch")
        expected_prev, expected_seq = rec.hash, rec.seq + 1
    head = session.get(AuditHead, 1)
    last_seq = expected_seq - 1
    if head is not None:
        verdict.head_hash = head.last_hash
        if head.last_seq > last_seq:
            verdict.problems.append(f"record(s) {last_seq + 1}..{head.last_seq} deleted from the end of the trail")
        elif head.last_seq == last_seq and head.last_hash != expected_prev:
            verdict.problems.append(f"record {last_seq}: does not match the trail head")
        elif head.last_seq < last_seq:
            verdict.problems.append(f"records after {head.last_seq} were added outside the trail")
    elif verdict.checked:
        verdict.problems.append("trail head missing")
    return verdict
