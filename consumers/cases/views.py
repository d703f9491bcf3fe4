"""What a case looks like to its readers: listings without detail, a full view for its own agencies.

The reporter's identity is never part of either; it has its own, separately permitted read.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consumers.cases.models import CaseAgency, CaseDeadline, CaseEvent, MandatoryReportCase, Referral


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def deadline_view(d: CaseDeadline) -> dict:
    return {"duty": d.duty, "agency_id": d.agency_id, "due_at": _iso(d.due_at), "met_at": _iso(d.met_at),
            "breached": d.breached_at is not None, "breached_at": _iso(d.breached_at),
            "escalation_level": d.escalation_level}


def case_summary(session: Session, case: MandatoryReportCase) -> dict:
    deadlines = session.execute(select(CaseDeadline).where(CaseDeadline.case_id == case.case_id)).scalars().all()
    return {"case_id": case.case_id, "report_id": case.report_id, "school_id": case.school_id,
            "district_code": case.district_code,
            "category": case.category, "risk": case.risk, "state": case.state, "assignee": case.assignee,
            "reported_at": _iso(case.reported_at), "updated_at": _iso(case.updated_at),
            "breaches": [deadline_view(d) for d in deadlines if d.breached_at is not None],
            "open_duties": [deadline_view(d) for d in deadlines if d.met_at is None]}


def case_detail(session: Session, case: MandatoryReportCase) -> dict:
    by_case = case.case_id
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == by_case).order_by(CaseEvent.id)).scalars()
    agencies = session.execute(select(CaseAgency).where(CaseAgency.case_id == by_case).order_by(CaseAgency.id)).scalars()
    referrals = session.execute(select(Referral).where(Referral.case_id == by_case).order_by(Referral.id)).scalars()
    deadlines = session.execute(select(CaseDeadline).where(CaseDeadline.case_id == by_case)
                                .order_by(CaseDeadline.id)).scalars()
    return {
        **case_summary(session, case),
        "report_id": case.report_id, "severity": case.severity, "situations": case.situations,
        "triggers": case.triggers, "children": case.children, "summary": case.summary, "outcome": case.outcome,
        "occurred_at": _iso(case.occurred_at), "opened_at": _iso(case.opened_at), "closed_at": _iso(case.closed_at),
        "agencies": [{"agency_id": a.agency_id, "kind": a.kind, "via": a.via, "forwarded_at": _iso(a.forwarded_at),
                      "acknowledged_at": _iso(a.acknowledged_at)} for a in agencies],
        "referrals": [{"id": r.id, "to_agency_id": r.to_agency_id, "state": r.state, "reason": r.reason,
                       "answer_reason": r.answer_reason, "requested_at": _iso(r.requested_at),
                       "answered_at": _iso(r.answered_at), "completed_at": _iso(r.completed_at)} for r in referrals],
        "deadlines": [deadline_view(d) for d in deadlines],
        "events": [{"at": _iso(e.at), "actor": e.actor, "kind": e.kind, "from": e.from_state, "to": e.to_state,
                    "what": e.what, "why": e.why, "details": e.details} for e in events],
    }
