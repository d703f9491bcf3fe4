"""The escalation runner: a missed duty escalates to the agency's supervisor, then the education bureau.

`tick(now)` is the whole algorithm; the CLI loop calls it. Breaches stay recorded after the duty is met.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from consumers.cases import history
from consumers.cases.clocks import ClockPolicy
from consumers.cases.duty_alerts import escalation_alert
from consumers.cases.models import CaseDeadline, MandatoryReportCase
from consumers.cases.routing import education_bureau
from consumers.cases.states import CaseState
from consumers.store.core import Agency
from consumers.store.db import transaction
from contracts.clock import Clock
from contracts.common import AgencyKind

ACTOR = "system:escalation"
LAST_LEVEL = 2  # 1: the responsible agency's supervisor, 2: the district education bureau


@dataclass(frozen=True)
class Escalation:
    case_id: str
    duty: str
    level: int
    target_agency_id: str | None


class EscalationRunner:
    def __init__(self, factory: sessionmaker[Session], clock: Clock, policy: ClockPolicy, alerts_topic: str):
        self.factory, self.clock, self.policy, self.alerts_topic = factory, clock, policy, alerts_topic

    def tick(self, now: datetime | None = None) -> list[Escalation]:
        """Escalate every duty whose clock (or escalation step) ran out by `now`; one transaction."""
        now = now or self.clock.now()
        with transaction(self.factory) as session:
            due = session.execute(select(CaseDeadline).where(CaseDeadline.met_at.is_(None),
                                                             CaseDeadline.next_escalation_at <= now)
                                  .order_by(CaseDeadline.next_escalation_at, CaseDeadline.id)
                                  .with_for_update(skip_locked=True)).scalars().all()
            return [e for d in due if (e := self._escalate(session, d, now)) is not None]

    def _target(self, session: Session, deadline: CaseDeadline, case: MandatoryReportCase,
                level: int) -> tuple[int, Agency | None]:
        if level == 1 and deadline.agency_id:
            agency = session.get(Agency, deadline.agency_id)
            if agency is not None and agency.supervisor_id:
                return 1, session.get(Agency, agency.supervisor_id)
        return LAST_LEVEL, education_bureau(session, case.district_code)

    def _escalate(self, session: Session, deadline: CaseDeadline, now: datetime) -> Escalation | None:
        case = session.get(MandatoryReportCase, deadline.case_id)
        if case is None or case.state == CaseState.CLOSED.value:
            deadline.next_escalation_at = None
            return None
        if deadline.breached_at is None:
            deadline.breached_at = now
            history.record(session, case.case_id, at=now, actor=ACTOR, kind="breach",
                           what=f"duty '{deadline.duty}' missed its deadline",
                           details={"duty": deadline.duty, "due_at": deadline.due_at.isoformat(),
                                    "agency_id": deadline.agency_id})
        level, target = self._target(session, deadline, case, deadline.escalation_level + 1)
        if target is not None:
            session.add(escalation_alert(case, deadline.duty, deadline.id, level, AgencyKind(target.kind),
                                         target.district_code, deadline.due_at, self.alerts_topic, now))
        history.record(session, case.case_id, at=now, actor=ACTOR, kind="escalation",
                       what=(f"escalated to {target.id}" if target else "no agency to escalate to"),
                       details={"duty": deadline.duty, "level": level, "target": target.id if target else None})
        deadline.escalation_level = level
        deadline.next_escalation_at = now + self.policy.escalation_step if level < LAST_LEVEL else None
        return Escalation(case.case_id, deadline.duty, level, target.id if target else None)


def breaches(session: Session, case_ids: list[str] | None = None) -> list[dict]:
    """Every duty that missed its deadline (met late or still open), newest first."""
    query = select(CaseDeadline).where(CaseDeadline.breached_at.is_not(None))
    if case_ids is not None:
        query = query.where(CaseDeadline.case_id.in_(case_ids))
    return [{"case_id": d.case_id, "duty": d.duty, "agency_id": d.agency_id, "due_at": d.due_at.isoformat(),
             "breached_at": d.breached_at.isoformat(), "met_at": d.met_at.isoformat() if d.met_at else None,
             "escalation_level": d.escalation_level}
            for d in session.execute(query.order_by(CaseDeadline.breached_at.desc())).scalars()]
