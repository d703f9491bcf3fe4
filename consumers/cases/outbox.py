"""Publishes what the case store committed to send (alerts, dead letters); a duty alert out means forwarded."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from consumers.cases import history
from consumers.cases.clocks import ClockPolicy, Duty, deadline
from consumers.cases.models import CaseAgency, CaseDeadline, MandatoryReportCase
from consumers.cases.opening import ACTOR
from consumers.cases.states import CaseState
from consumers.cases.tracking import OutboxMessage
from consumers.store.db import transaction
from contracts.clock import Clock


class Publisher(Protocol):
    """Where outbox messages go (Kafka in production): `flush` raises unless every send was acknowledged."""

    def send(self, topic: str, key: bytes | None, value: bytes) -> None: ...

    def flush(self) -> None: ...


def mark_forwarded(session: Session, case_ids: list[str], policy: ClockPolicy, now: datetime) -> None:
    """The routed agencies were told: reported → forwarded, forward clock met, acknowledge clocks start."""
    if not case_ids:
        return
    with session.no_autoflush:
        cases = session.execute(select(MandatoryReportCase).where(MandatoryReportCase.case_id.in_(case_ids),
                                                                  MandatoryReportCase.state == CaseState.REPORTED.value)
                                ).scalars().all()
        ids = [c.case_id for c in cases]
        links = session.execute(select(CaseAgency).where(CaseAgency.case_id.in_(ids))).scalars().all()
        for row in session.execute(select(CaseDeadline).where(CaseDeadline.case_id.in_(ids),
                                                              CaseDeadline.duty == Duty.FORWARD.value,
                                                              CaseDeadline.met_at.is_(None))).scalars():
            row.met_at, row.next_escalation_at = now, None
        for case in cases:
            history.transition(session, case, CaseState.FORWARDED, at=now, actor=ACTOR,
                               what="duty officers of the routed agencies alerted")
        for link in links:
            link.forwarded_at = now
            session.add(deadline(link.case_id, Duty.ACKNOWLEDGE, now + policy.acknowledge, link.agency_id))


class OutboxRelay:
    def __init__(self, factory: sessionmaker[Session], publisher: Publisher, clock: Clock, policy: ClockPolicy):
        self.factory, self.publisher, self.clock, self.policy = factory, publisher, clock, policy

    def publish_pending(self, limit: int = 2000) -> int:
        """Send unpublished messages (at least once; ids are deterministic) and record them as sent."""
        with transaction(self.factory) as session:
            rows = session.execute(select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.key,
                                          OutboxMessage.value, OutboxMessage.purpose, OutboxMessage.case_id)
                                   .where(OutboxMessage.published_at.is_(None))
                                   .order_by(OutboxMessage.created_at, OutboxMessage.id).limit(limit)).all()
        if not rows:
            return 0
        for row in rows:
            self.publisher.send(row.topic, row.key, row.value)
        self.publisher.flush()
        now = self.clock.now()
        with transaction(self.factory) as session:
            marked = session.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]),
                                                                 OutboxMessage.published_at.is_(None))
                                     .values(published_at=now).returning(OutboxMessage.id)).scalars().all()
            first_time = set(marked)  # another relay may have marked some already: forward those only once
            mark_forwarded(session, [r.case_id for r in rows if r.id in first_time and r.purpose == "duty"],
                           self.policy, now)
        return len(rows)
