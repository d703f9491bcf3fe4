"""The case state machine: reported → forwarded → acknowledged → investigating → services → closed, and reopen."""

from __future__ import annotations

from enum import StrEnum

from consumers.cases.errors import IllegalTransition


class CaseState(StrEnum):
    REPORTED = "reported"  # opened from a report, agencies not yet told
    FORWARDED = "forwarded"  # duty officers of the routed agencies were alerted
    ACKNOWLEDGED = "acknowledged"  # a receiving agency confirmed it has the case
    INVESTIGATING = "investigating"  # assigned to an investigator
    SERVICES = "services"  # rescue, treatment, counselling under way
    CLOSED = "closed"  # closed with an outcome


class ReferralState(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    COMPLETED = "completed"
    ENDED = "ended"  # still open when its case was closed: the agency's access ends with the case


NEXT: dict[CaseState, frozenset[CaseState]] = {
    CaseState.REPORTED: frozenset({CaseState.FORWARDED}),
    CaseState.FORWARDED: frozenset({CaseState.ACKNOWLEDGED}),
    CaseState.ACKNOWLEDGED: frozenset({CaseState.INVESTIGATING}),
    CaseState.INVESTIGATING: frozenset({CaseState.SERVICES, CaseState.CLOSED}),
    CaseState.SERVICES: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset({CaseState.INVESTIGATING}),  # reopen
}

REFERRAL_NEXT: dict[ReferralState, frozenset[ReferralState]] = {
    ReferralState.REQUESTED: frozenset({ReferralState.ACCEPTED, ReferralState.REJECTED, ReferralState.ENDED}),
    ReferralState.ACCEPTED: frozenset({ReferralState.COMPLETED, ReferralState.ENDED}),
    ReferralState.REJECTED: frozenset(),
    ReferralState.COMPLETED: frozenset(),
    ReferralState.ENDED: frozenset(),
}


def check_transition(case_id: str, current: str, target: CaseState) -> CaseState:
    """Return the current state if `target` may follow it; otherwise say what may."""
    state = CaseState(current)
    if target not in NEXT[state]:
        allowed = ", ".join(sorted(s.value for s in NEXT[state])) or "nothing"
        raise IllegalTransition(f"case {case_id}: cannot go from {state.value!r} to {target.value!r}; "
                                f"from {state.value!r} it may go to: {allowed}")
    return state


def check_referral(referral_id: int, current: str, target: ReferralState) -> None:
    state = ReferralState(current)
    if target not in REFERRAL_NEXT[state]:
        allowed = ", ".join(sorted(s.value for s in REFERRAL_NEXT[state])) or "nothing (it is final)"
        raise IllegalTransition(f"referral {referral_id}: cannot go from {state.value!r} to {target.value!r}; "
                                f"allowed: {allowed}")
