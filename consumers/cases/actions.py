"""Agency actions on a case: acknowledge, assign, note, services, refer, answer a referral, close, reopen."""

from __future__ import annotations

from sqlalchemy import select

from consumers.cases.access import OPEN_REFERRAL
from consumers.cases.clocks import Duty, meet, stop_clocks
from consumers.cases.desk import CaseDeskBase, Credential, text
from consumers.cases.errors import IllegalTransition, InvalidCaseInput, ReferralError
from consumers.cases.history import transition
from consumers.cases.models import CaseAgency, Referral
from consumers.cases.states import CaseState, ReferralState, check_referral, check_transition
from consumers.store.core import Agency
from contracts.errors import FieldError

SERVICES = ("rescue", "treatment", "counselling")
ANSWERS = {"accept": ReferralState.ACCEPTED, "reject": ReferralState.REJECTED, "complete": ReferralState.COMPLETED}


class CaseDesk(CaseDeskBase):
    def acknowledge(self, credential: Credential, case_id: str, why: str = "") -> dict:
        """The caller's agency confirms it has the case; the first acknowledgement moves the case on."""
        with self.acting(credential, "acknowledge", case_id) as act:
            link = act.session.execute(select(CaseAgency).where(CaseAgency.case_id == case_id,
                                                                CaseAgency.agency_id == act.principal.unit_id,
                                                                CaseAgency.via == "routing")).scalar_one()
            if link.acknowledged_at is not None:
                raise IllegalTransition(f"case {case_id}: already acknowledged by {link.agency_id} "
                                        f"at {link.acknowledged_at.isoformat()}")
            if act.case.state == CaseState.FORWARDED.value:
                check_transition(case_id, act.case.state, CaseState.ACKNOWLEDGED)
                transition(act.session, act.case, CaseState.ACKNOWLEDGED, at=act.now, actor=act.principal.actor,
                           what=f"acknowledged by {link.agency_id}", why=why)
            elif act.case.state == CaseState.REPORTED.value:
                check_transition(case_id, act.case.state, CaseState.ACKNOWLEDGED)
            else:
                act.record("acknowledge", f"acknowledged by {link.agency_id}", why)
            link.acknowledged_at = act.now
            meet(act.session, case_id, Duty.ACKNOWLEDGE, act.now, agency_id=link.agency_id)
            return {"case_id": case_id, "state": act.case.state}

    def assign(self, credential: Credential, case_id: str, assignee: str, why: str = "") -> dict:
        assignee = text("assignee", assignee, max_len=100)
        with self.acting(credential, "assign", case_id) as act:
            if act.case.state in (CaseState.INVESTIGATING.value, CaseState.SERVICES.value):
                act.record("assign", f"reassigned to {assignee}", why, details={"from": act.case.assignee})
            else:
                check_transition(case_id, act.case.state, CaseState.INVESTIGATING)
                transition(act.session, act.case, CaseState.INVESTIGATING, at=act.now, actor=act.principal.actor,
                           what=f"assigned to {assignee}", why=why)
            act.case.assignee = assignee
            meet(act.session, case_id, Duty.ASSIGN, act.now, agency_id=act.principal.unit_id)  # the lead's own duty
            return {"case_id": case_id, "state": act.case.state, "assignee": assignee}

    def note(self, credential: Credential, case_id: str, note: str) -> dict:
        note = text("text", note)
        with self.acting(credential, "note", case_id) as act:
            act.record("note", "note added", note)
            return {"case_id": case_id, "state": act.case.state}

    def start_services(self, credential: Credential, case_id: str, service: str, why: str = "") -> dict:
        if service not in SERVICES:
            raise InvalidCaseInput([FieldError("service", f"one of {', '.join(SERVICES)}", repr(service))])
        with self.acting(credential, "services", case_id) as act:
            check_transition(case_id, act.case.state, CaseState.SERVICES)
            transition(act.session, act.case, CaseState.SERVICES, at=act.now, actor=act.principal.actor,
                       what=f"services under way: {service}", why=why)
            return {"case_id": case_id, "state": act.case.state}

    def refer(self, credential: Credential, case_id: str, to_agency_id: str, reason: str) -> dict:
        reason = text("reason", reason)
        with self.acting(credential, "refer", case_id) as act:
            if act.case.state == CaseState.CLOSED.value:
                raise IllegalTransition(f"case {case_id} is closed; reopen it before referring")
            agency = act.session.get(Agency, to_agency_id)
            if agency is None or agency.id == act.principal.unit_id:
                raise InvalidCaseInput([FieldError("to_agency_id", "another agency's id from `agencies`",
                                                   repr(to_agency_id))])
            referral = Referral(case_id=case_id, to_agency_id=agency.id, requested_by=act.principal.actor,
                                reason=reason, state=ReferralState.REQUESTED.value, requested_at=act.now)
            act.session.add(referral)  # the referred agency sees the case once it accepts (access.py)
            act.session.flush()
            act.record("referral", f"referred to {agency.id}", reason, details={"referral_id": referral.id})
            return {"case_id": case_id, "referral_id": referral.id, "state": referral.state}

    def answer_referral(self, credential: Credential, case_id: str, referral_id: int, decision: str,
                        reason: str = "") -> dict:
        """The agency a referral was sent to accepts, rejects (with a reason) or completes it."""
        if decision not in ANSWERS:
            raise InvalidCaseInput([FieldError("decision", f"one of {', '.join(ANSWERS)}", repr(decision))])
        target = ANSWERS[decision]
        reason = text("reason", reason, required=target == ReferralState.REJECTED)
        with self.acting(credential, "answer_referral", case_id) as act:
            referral = act.session.get(Referral, referral_id)
            if referral is None or referral.case_id != case_id:
                raise ReferralError(f"referral {referral_id} does not belong to case {case_id}")
            if referral.to_agency_id != act.principal.unit_id:
                raise ReferralError(f"referral {referral_id} was sent to {referral.to_agency_id}; only it may answer")
            check_referral(referral_id, referral.state, target)
            referral.state = target.value
            if target == ReferralState.COMPLETED:
                referral.completed_at = act.now
            else:
                referral.answered_at, referral.answer_reason = act.now, reason or None
            act.record("referral", f"referral {referral_id} {target.value}", reason,
                       details={"referral_id": referral_id, "state": target.value})
            return {"case_id": case_id, "referral_id": referral_id, "state": referral.state}

    def close(self, credential: Credential, case_id: str, outcome: str, why: str = "") -> dict:
        outcome = text("outcome", outcome, max_len=200)
        with self.acting(credential, "close", case_id) as act:
            check_transition(case_id, act.case.state, CaseState.CLOSED)
            transition(act.session, act.case, CaseState.CLOSED, at=act.now, actor=act.principal.actor,
                       what=f"closed: {outcome}", why=why)
            act.case.outcome, act.case.closed_at = outcome, act.now
            self._end_open_referrals(act)
            meet(act.session, case_id, Duty.CLOSE, act.now)
            stop_clocks(act.session, case_id)
            return {"case_id": case_id, "state": act.case.state, "outcome": outcome}

    @staticmethod
    def _end_open_referrals(act) -> None:
        """A closed case keeps no agency in it through a referral: each one still requested or accepted ends now
        (recorded on the case and audited); a reopened case is referred again if it needs to be."""
        open_referrals = act.session.execute(
            select(Referral).where(Referral.case_id == act.case.case_id, Referral.state.in_(OPEN_REFERRAL))
            .order_by(Referral.id).with_for_update()).scalars().all()
        for referral in open_referrals:
            check_referral(referral.id, referral.state, ReferralState.ENDED)
            referral.state, referral.completed_at = ReferralState.ENDED.value, act.now
            act.record("referral", f"referral {referral.id} ended: the case was closed",
                       details={"referral_id": referral.id, "state": ReferralState.ENDED.value})

    def reopen(self, credential: Credential, case_id: str, why: str) -> dict:
        why = text("reason", why)
        with self.acting(credential, "reopen", case_id) as act:
            check_transition(case_id, act.case.state, CaseState.INVESTIGATING)
            transition(act.session, act.case, CaseState.INVESTIGATING, at=act.now, actor=act.principal.actor,
                       what="reopened", why=why)
            act.case.closed_at = None
            return {"case_id": case_id, "state": act.case.state}
