"""What a case looks like to each reader: agencies get the full view, the reporting school a redacted one
(no agency notes, reasons, investigators or referrals), an agency asked to take a referral only that referral.

The reporter's identity is never part of any view; it has its own, separately permitted and audited read.
`case_view` and `case_listing` pick the view from the reader's standing (consumers/cases/access.py).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from consumers.cases.access import Principal, Standing, standing
from consumers.cases.models import CaseAgency, CaseDeadline, CaseEvent, MandatoryReportCase, Referral

AGENCY_VIEWS = frozenset({Standing.LEAD, Standing.ROUTED, Standing.REFERRED, Standing.SUPERVISING})


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


def _redacted_summary(case: MandatoryReportCase) -> dict:
    """What anyone in scope may know: what was reported, where, and where the case stands."""
    return {"case_id": case.case_id, "school_id": case.school_id, "district_code": case.district_code,
            "category": case.category, "risk": case.risk, "state": case.state,
            "reported_at": _iso(case.reported_at), "updated_at": _iso(case.updated_at)}


def _school_summary(case: MandatoryReportCase) -> dict:
    """The redacted summary plus the id of the school's own report (the event id its intake answered)."""
    return {**_redacted_summary(case), "report_id": case.report_id}


def school_view(session: Session, case: MandatoryReportCase, school_id: str) -> dict:
    """The reporting school's view: its own report, the state timeline, its own notes, and which kinds of
    agency the law told and whether each acknowledged; nothing agencies wrote, no agency named."""
    events = session.execute(select(CaseEvent).where(CaseEvent.case_id == case.case_id)
                             .order_by(CaseEvent.id)).scalars().all()
    told = session.execute(select(CaseAgency).where(CaseAgency.case_id == case.case_id, CaseAgency.via == "routing")
                           .order_by(CaseAgency.id)).scalars()
    own_prefix = f"school_officer:{school_id}:"
    return {**_school_summary(case), "view": "school", "summary": case.summary, "children": case.children,
            "occurred_at": _iso(case.occurred_at), "closed_at": _iso(case.closed_at),
            "agencies": [{"kind": a.kind, "told": a.forwarded_at is not None,
                          "acknowledged": a.acknowledged_at is not None} for a in told],
            "timeline": [{"at": _iso(e.at), "state": e.to_state} for e in events if e.to_state],
            "notes": [{"at": _iso(e.at), "text": e.why} for e in events
                      if e.kind == "note" and e.actor.startswith(own_prefix)]}


def referral_view(session: Session, case: MandatoryReportCase, agency_id: str) -> dict:
    """An agency asked to take a referral sees the request (to decide on it), not the case."""
    referrals = session.execute(select(Referral).where(Referral.case_id == case.case_id,
                                                       Referral.to_agency_id == agency_id)
                                .order_by(Referral.id)).scalars()
    return {**_redacted_summary(case), "view": "referral",
            "referrals": [{"id": r.id, "state": r.state, "reason": r.reason, "requested_at": _iso(r.requested_at)}
                          for r in referrals]}


def case_view(session: Session, principal: Principal, case: MandatoryReportCase,
              held: Standing | None = None) -> dict:
    """The view of this case for this principal (the caller has checked it may view it)."""
    held = held or standing(session, principal, case)
    if held in AGENCY_VIEWS:
        return {**case_detail(session, case), "view": "agency", "standing": held.value}
    if held == Standing.SCHOOL:
        return school_view(session, case, principal.unit_id)
    if held == Standing.REFERRAL_PENDING:
        return referral_view(session, case, principal.unit_id)
    raise ValueError(f"no view of case {case.case_id} for standing {held.value}")


def case_listing(session: Session, principal: Principal, case: MandatoryReportCase) -> dict:
    """One line of a listing for this principal: agencies see clocks and assignee, others the redacted summary."""
    held = standing(session, principal, case)
    if held in AGENCY_VIEWS:
        return {**case_summary(session, case), "standing": held.value}
    if held == Standing.SCHOOL:
        return {**_school_summary(case), "standing": held.value}
    return {**_redacted_summary(case), "standing": held.value}
