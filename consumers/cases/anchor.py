"""The audit chain anchored outside the database: its head, and every record hash since the last anchor,
published to the audit topic; `verify_anchored` checks the database chain against what Kafka holds.

Someone with write access to the database can delete a record, re-hash the rest and update the head so
that the chain checks out on its own; they cannot rewrite what the broker already acknowledged. Each
anchor is one `AuditRecorded` event (action `audit.chain.anchored`, key `case-audit-chain`) whose
details carry the head (`head_seq`, `head_hash`) and `records`: "seq|hash|action|subject" for each
record since the previous anchor — hashes, action names and case ids only, never text or names.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from consumers.cases import audit
from consumers.cases.audit import AuditRecord, AuditVerdict
from consumers.store.db import transaction
from contracts.audit import AuditRecorded
from contracts.clock import Clock
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.events import AuditRecordedEvent

log = logging.getLogger(__name__)
KEY = b"case-audit-chain"
ACTION = "audit.chain.anchored"
ACTOR = "system:audit-anchor"
PER_EVENT = 500  # records per anchor event (about 50 KB), well under the broker's message limit


class AnchorLog(Protocol):
    """Where anchors go and come back from: the audit topic (consumers/cases/anchor_log.KafkaAnchorLog)."""

    def append(self, values: Sequence[bytes]) -> None:
        """Write the values under KEY and return once the broker acknowledged every one (acks=all)."""

    def read(self) -> list[bytes]:
        """Every value written under KEY so far, oldest first."""


@dataclass(frozen=True)
class Anchored:
    """One record as it was when anchored."""

    seq: int
    hash: str
    action: str
    subject: str
    anchored_at: datetime


def anchored_records(values: Sequence[bytes]) -> dict[int, Anchored]:
    """The anchored hash of each sequence number; the first anchoring of a number wins (later ones may be forged)."""
    out: dict[int, Anchored] = {}
    for value in values:
        try:
            event = decode(value, AuditRecordedEvent)
        except ContractError:
            continue  # other audit records sharing the partition, or garbage: not an anchor
        if event.data.action != ACTION:
            continue
        for entry in event.data.details.get("records", []):
            seq, digest, action, subject = entry.split("|", 3)
            out.setdefault(int(seq), Anchored(int(seq), digest, action, subject, event.data.at))
    return out


def anchor_events(records: Sequence[AuditRecord], now: datetime) -> list[bytes]:
    """Anchor events for `records` (consecutive, oldest first), PER_EVENT records each."""
    out = []
    for start in range(0, len(records), PER_EVENT):
        chunk = records[start:start + PER_EVENT]
        head = chunk[-1]
        payload = AuditRecorded(actor=ACTOR, action=ACTION, subject=KEY.decode(), outcome="ok", at=now,
                                details={"head_seq": head.seq, "head_hash": head.hash, "first_seq": chunk[0].seq,
                                         "records": [f"{r.seq}|{r.hash}|{r.action}|{r.subject}" for r in chunk]})
        event = AuditRecordedEvent.new(payload, source="/consumers/cases/audit", subject=KEY.decode(), time=now,
                                       id=f"audit-anchor-{head.seq}-{head.hash[:32]}")
        out.append(event.to_bytes())
    return out


def divergences(session: Session, anchored: dict[int, Anchored]) -> list[str]:
    """Compare the database chain with the anchors; the first divergence comes first."""
    if not anchored:
        return []
    rows = {r.seq: r for r in session.execute(select(AuditRecord).where(AuditRecord.seq >= min(anchored),
                                                                        AuditRecord.seq <= max(anchored))).scalars()}
    problems = []
    for seq in sorted(anchored):
        a = anchored[seq]
        row = rows.get(seq)
        what = f"record {seq} ({a.action} on {a.subject}, anchored at {a.anchored_at.isoformat()})"
        if row is None:
            problems.append(f"{what} is missing from the database: deleted after it was anchored")
        elif row.hash != a.hash:
            problems.append(f"{what} differs from its anchor: the trail was rewritten from here "
                            f"(the database now holds {row.action} on {row.subject})")
    if len(problems) > 1:
        problems[1:] = [f"and {len(problems) - 1} more anchored record(s) differ after it"]
    return problems


class AuditAnchor:
    """Publishes the chain head (with the hashes since the last anchor) and checks the chain against anchors."""

    def __init__(self, factory: sessionmaker[Session], clock: Clock, anchors: AnchorLog):
        self.factory, self.clock, self.anchors = factory, clock, anchors
        self._last: tuple[int, str] | None = None  # (seq, hash) last anchored; read back from the log on first use

    def _last_anchored(self) -> tuple[int, str]:
        if self._last is None:
            anchored = anchored_records(self.anchors.read())
            last = anchored[max(anchored)] if anchored else None
            self._last = (last.seq, last.hash) if last else (0, audit.GENESIS)
        return self._last

    def publish(self) -> int:
        """Anchor every record since the last anchor (only if they chain on from it); returns how many."""
        last_seq, last_hash = self._last_anchored()
        with self.factory() as session:
            records = session.execute(select(AuditRecord).where(AuditRecord.seq > last_seq)
                                      .order_by(AuditRecord.seq)).scalars().all()
            prev = last_hash
            for expected, rec in enumerate(records, start=last_seq + 1):
                ok = rec.seq == expected and rec.prev_hash == prev and rec.hash == audit.record_hash(
                    rec.seq, rec.at, rec.actor, rec.action, rec.subject, rec.outcome, rec.details, rec.prev_hash)
                if not ok:
                    log.error("audit chain does not continue from its last anchor; not anchoring",
                              extra={"seq": rec.seq, "anchored_seq": last_seq})
                    records = records[:expected - last_seq - 1]
                    break
                prev = rec.hash
            if records:
                self.anchors.append(anchor_events(records, self.clock.now()))
                self._last = (records[-1].seq, records[-1].hash)
        return len(records)

    def verify(self) -> AuditVerdict:
        """The database chain on its own, then against the anchors; anchor the head if everything holds."""
        anchored = anchored_records(self.anchors.read())
        with transaction(self.factory) as session:
            verdict = audit.verify(session)
            found = divergences(session, anchored)
        verdict.problems[:0] = found  # the anchored divergence is the one to read first
        verdict.anchored = len(anchored)
        if verdict.ok:
            self.publish()
        return verdict
