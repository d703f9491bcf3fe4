"""The duties' clocks: configurable defaults, and the deadlines a case gets when it opens or is forwarded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from consumers.cases.models import CaseDeadline, MandatoryReportCase


class Duty(StrEnum):
    FORWARD = "forward"  # tell public security (and the other routed agencies)
    ACKNOWLEDGE = "acknowledge"  # each receiving agency confirms
    ASSIGN = "assign"  # an investigator is assigned
    CLOSE = "close"  # bullying investigation finished


@dataclass(frozen=True)
class ClockPolicy:
    """DOMAIN.md's suggested clocks; every number is configurable (ops/settings.py)."""

    forward: timedelta = timedelta(minutes=15)
    acknowledge: timedelta = timedelta(hours=1)
    assign_high_risk: timedelta = timedelta(hours=1)
    assign_other: timedelta = timedelta(hours=3)
    bullying_close: timedelta = timedelta(days=10)
    escalation_step: timedelta = timedelta(hours=1)  # from the supervisor to the education bureau


def deadline(case_id: str, duty: Duty, due_at: datetime, agency_id: str | None) -> CaseDeadline:
    return CaseDeadline(case_id=case_id, duty=duty.value, agency_id=agency_id, due_at=due_at, escalation_level=0,
                        next_escalation_at=due_at)


def opening_deadlines(case: MandatoryReportCase, policy: ClockPolicy, lead_agency: str | None,
                      education_agency: str | None) -> list[CaseDeadline]:
    """Forward and assign clocks run from intake; bullying cases also get the 10-day close clock."""
    assign = policy.assign_high_risk if case.risk == "high" else policy.assign_other
    out = [deadline(case.case_id, Duty.FORWARD, case.reported_at + policy.forward, lead_agency),
           deadline(case.case_id, Duty.ASSIGN, case.reported_at + assign, lead_agency)]
    if case.category == "bullying":
        out.append(deadline(case.case_id, Duty.CLOSE, case.reported_at + policy.bullying_close,
                            education_agency or lead_agency))
    return out


def meet(session: Session, case_id: str, duty: Duty, now: datetime, agency_id: str | None = None) -> None:
    """Mark a duty done; a breach already recorded stays visible."""
    query = select(CaseDeadline).where(CaseDeadline.case_id == case_id, CaseDeadline.duty == duty.value,
                                       CaseDeadline.met_at.is_(None))
    if agency_id is not None:
        query = query.where(CaseDeadline.agency_id == agency_id)
    for row in session.execute(query).scalars():
        row.met_at, row.next_escalation_at = now, None


def stop_clocks(session: Session, case_id: str) -> None:
    """A closed case escalates no further; unmet duties stay unmet (and breached, if they were)."""
    for row in session.execute(select(CaseDeadline).where(CaseDeadline.case_id == case_id,
                                                          CaseDeadline.met_at.is_(None))).scalars():
        row.next_escalation_at = None
