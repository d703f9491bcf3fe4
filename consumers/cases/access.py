"""Who may do what to which case: roles, their permissions, and each unit's scope."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Select, exists, select

from consumers.cases.errors import Forbidden
from consumers.cases.models import CaseAgency, MandatoryReportCase


class Role(StrEnum):
    POLICE_DUTY_OFFICER = "police_duty_officer"  # unit: a public-security agency; sees that agency's cases
    AGENCY_DUTY_OFFICER = "agency_duty_officer"  # unit: any agency; sees cases routed or referred to it
    SCHOOL_OFFICER = "school_officer"  # unit: a school; sees only what that school reported
    OPERATOR = "operator"  # runs the system; sees no case


AGENCY_ROLES = frozenset({Role.POLICE_DUTY_OFFICER, Role.AGENCY_DUTY_OFFICER})
CASE_READERS = AGENCY_ROLES | {Role.SCHOOL_OFFICER}

PERMISSIONS: dict[str, frozenset[Role]] = {
    "list": CASE_READERS,
    "view": CASE_READERS,
    "note": CASE_READERS,
    "reporter": frozenset({Role.POLICE_DUTY_OFFICER}),  # the investigators need to reach the reporter
    "acknowledge": AGENCY_ROLES,
    "assign": AGENCY_ROLES,
    "services": AGENCY_ROLES,
    "refer": AGENCY_ROLES,
    "answer_referral": AGENCY_ROLES,
    "close": AGENCY_ROLES,
    "reopen": AGENCY_ROLES,
    "missing_child": frozenset({Role.POLICE_DUTY_OFFICER}),  # publish / stop the widening alert
}


@dataclass(frozen=True)
class Principal:
    """The holder of a valid token: its role and the unit (agency or school id) it acts for."""

    token_id: str
    role: Role
    unit_id: str

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.unit_id}:{self.token_id}"


def require(principal: Principal, action: str) -> None:
    if principal.role not in PERMISSIONS[action]:
        allowed = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise Forbidden(f"role {principal.role.value!r} may not {action.replace('_', ' ')}; allowed: {allowed}")


def scoped_cases(principal: Principal) -> Select:
    """SELECT of the cases this principal may see; nobody sees another unit's cases."""
    query = select(MandatoryReportCase)
    if principal.role == Role.SCHOOL_OFFICER:
        return query.where(MandatoryReportCase.school_id == principal.unit_id)
    if principal.role in AGENCY_ROLES:
        routed = exists().where(CaseAgency.case_id == MandatoryReportCase.case_id,
                                CaseAgency.agency_id == principal.unit_id)
        return query.where(routed)
    return query.where(MandatoryReportCase.case_id.is_(None))  # operators: nothing
