"""Who may do what to which case — the one place the desk (HTTP and CLI) and the console ask.

Two questions, in this order:

1. **Role** (`require`): may this kind of officer ever do the action? (403 before any case is read.)
2. **Standing** (`standing`, `check`): what is this unit to this case? The lead agency (the routed
   public-security agency), another agency routed to it by law, an agency whose referral was
   accepted (until it is rejected or completed, or the case is closed), an agency asked to take a referral (sees only the
   referral, may only answer it), the school that reported it, or a supervisor of an agency that holds
   it (reads it, does nothing else). A unit with no standing does not
   see the case at all ("not found", 404); a standing that does not allow the action is 403.

Function-level API (every function takes an open Session; none commits):

- `scoped_cases(principal)` — SELECT of the cases the principal may list.
- `find_case(session, principal, case_id, lock=False)` — the case, or `CaseNotFound`.
- `standing(session, principal, case)` — a `Standing`.
- `allowed_actions(session, principal, case)` — the actions it may take now (for buttons).
- `check(session, principal, action, case)` — the standing, or `Forbidden` saying why.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import ColumnElement, Select, exists, or_, select
from sqlalchemy.orm import Session

from consumers.cases.errors import CaseNotFound, Forbidden
from consumers.cases.models import CaseAgency, CaseDeadline, MandatoryReportCase, Referral
from consumers.store.core import Agency
from contracts.common import AgencyKind


class Role(StrEnum):
    POLICE_DUTY_OFFICER = "police_duty_officer"  # unit: a public-security agency
    AGENCY_DUTY_OFFICER = "agency_duty_officer"  # unit: any agency
    SCHOOL_OFFICER = "school_officer"  # unit: a school; sees only what that school reported, redacted
    SUPERVISOR = "supervisor"  # unit: a supervising agency; reads the cases of the agencies under it (and its own)
    OPERATOR = "operator"  # runs the system; sees no case
    EMERGENCY_MANAGER = "emergency_manager"  # unit: an emergency-management or education bureau; sees no case
    INDICATORS_PROVINCE = "indicators_province"  # unit: a province (regions); its indicators, no case
    INDICATORS_CITY = "indicators_city"  # unit: a city (regions); its own city's indicators, no case


class Standing(StrEnum):
    """What a unit is to one case."""

    LEAD = "lead"  # the routed public-security agency: investigates, assigns, closes, may reveal the reporter
    ROUTED = "routed"  # routed by law (civil affairs, education, health, women's federation)
    REFERRED = "referred"  # its referral was accepted; ends when it is rejected or completed, or the case closes
    REFERRAL_PENDING = "referral_pending"  # asked to take a referral: sees the referral only, may answer it
    SCHOOL = "school"  # the school that reported the case: a redacted view, its own notes
    SUPERVISING = "supervising"  # supervises (agencies.supervisor_id) or is an agency holding the case: reads only
    NONE = "none"  # not in scope: the case is "not found" for it


AGENCY_ROLES = frozenset({Role.POLICE_DUTY_OFFICER, Role.AGENCY_DUTY_OFFICER})
CASE_READERS = AGENCY_ROLES | {Role.SCHOOL_OFFICER}

PERMISSIONS: dict[str, frozenset[Role]] = {  # 1. which roles may ever do an action
    "list": CASE_READERS | {Role.SUPERVISOR},
    "view": CASE_READERS | {Role.SUPERVISOR},
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
    "indicators": frozenset({Role.INDICATORS_PROVINCE, Role.INDICATORS_CITY}),  # counts only, never a case
}

_AGENCY_COMMON = frozenset({"view", "note", "answer_referral"})
ACTIONS: dict[Standing, frozenset[str]] = {  # 2. what each standing allows on the case
    Standing.LEAD: _AGENCY_COMMON | {"reporter", "acknowledge", "assign", "services", "refer", "close", "reopen",
                                     "missing_child"},
    Standing.ROUTED: _AGENCY_COMMON | {"acknowledge", "services", "refer"},
    Standing.REFERRED: _AGENCY_COMMON | {"services"},
    Standing.REFERRAL_PENDING: frozenset({"view", "answer_referral"}),
    Standing.SCHOOL: frozenset({"view", "note"}),
    Standing.SUPERVISING: frozenset({"view"}),
    Standing.NONE: frozenset(),
}
LEAD_ONLY = frozenset({"assign", "close", "reopen", "reporter", "missing_child"})
CLOSE_DUTY_ACTIONS = frozenset({"close", "reopen"})  # also the agency holding the case's close duty (bullying)
OPEN_REFERRAL = ("requested", "accepted")


@dataclass(frozen=True)
class Principal:
    """Who is asking: a role and the unit (agency or school id) it acts for, and its token or session id."""

    token_id: str
    role: Role
    unit_id: str

    @property
    def actor(self) -> str:
        return f"{self.role.value}:{self.unit_id}:{self.token_id}"


def require(principal: Principal, action: str) -> None:
    """Refuse a role that may never do `action` (403), before any case is looked at."""
    if principal.role not in PERMISSIONS[action]:
        allowed = ", ".join(sorted(r.value for r in PERMISSIONS[action]))
        raise Forbidden(f"role {principal.role.value!r} may not {action.replace('_', ' ')}; allowed: {allowed}")


def indicator_area_in_scope(principal: Principal, area_code: str) -> bool:
    """A province's committee sees every area of its province; a city only itself and its districts."""
    require(principal, "indicators")
    unit = principal.unit_id
    prefix = unit[:2] if principal.role == Role.INDICATORS_PROVINCE else unit[:4]
    return area_code.startswith(prefix) and (principal.role == Role.INDICATORS_PROVINCE or area_code != unit[:2] + "0000")


def _held_by(units, referral_states: tuple[str, ...]) -> ColumnElement[bool]:
    """Cases routed by law to one of `units`, or referred to one of them in one of `referral_states`."""
    routed = exists().where(CaseAgency.case_id == MandatoryReportCase.case_id,
                            CaseAgency.agency_id.in_(units), CaseAgency.via == "routing")
    referred = exists().where(Referral.case_id == MandatoryReportCase.case_id,
                              Referral.to_agency_id.in_(units), Referral.state.in_(referral_states))
    return or_(routed, referred)


def _supervised(unit_id: str) -> Select:
    """The agencies a supervisor reads for: those whose `supervisor_id` is its unit, and its unit itself."""
    return select(Agency.id).where(or_(Agency.supervisor_id == unit_id, Agency.id == unit_id))


def scoped_cases(principal: Principal) -> Select:
    """SELECT of the cases this principal may see: its school's, or routed to its agency, or referred to it
    and not yet rejected or completed; a supervisor: those its agencies hold (routed, or a referral they
    accepted). Nobody sees another unit's cases."""
    query = select(MandatoryReportCase)
    if principal.role == Role.SCHOOL_OFFICER:
        return query.where(MandatoryReportCase.school_id == principal.unit_id)
    if principal.role in AGENCY_ROLES:
        return query.where(_held_by([principal.unit_id], OPEN_REFERRAL))
    if principal.role == Role.SUPERVISOR:
        return query.where(_held_by(_supervised(principal.unit_id), ("accepted",)))
    return query.where(MandatoryReportCase.case_id.is_(None))  # operators: nothing


def find_case(session: Session, principal: Principal, case_id: str, *, lock: bool = False) -> MandatoryReportCase:
    """The case if it is in the principal's scope; otherwise `CaseNotFound` (another unit's case does not exist)."""
    query = scoped_cases(principal).where(MandatoryReportCase.case_id == case_id)
    case = session.execute(query.with_for_update() if lock else query).scalar_one_or_none()
    if case is None:
        raise CaseNotFound(f"case {case_id!r} is not in the scope of unit {principal.unit_id!r}")
    return case


def lead_agency_id(session: Session, case_id: str) -> str | None:
    """The lead agency: the public-security agency the case was routed to by law (never one it was referred to)."""
    return session.execute(select(CaseAgency.agency_id).where(
        CaseAgency.case_id == case_id, CaseAgency.via == "routing",
        CaseAgency.kind == AgencyKind.PUBLIC_SECURITY.value).order_by(CaseAgency.id).limit(1)).scalar_one_or_none()


def close_duty_agency_id(session: Session, case_id: str) -> str | None:
    """The agency responsible for closing the case in time (bullying: the district education bureau)."""
    return session.execute(select(CaseDeadline.agency_id).where(
        CaseDeadline.case_id == case_id, CaseDeadline.duty == "close").limit(1)).scalar_one_or_none()


def standing(session: Session, principal: Principal, case: MandatoryReportCase) -> Standing:
    """What the principal's unit is to this case."""
    if principal.role == Role.SCHOOL_OFFICER:
        return Standing.SCHOOL if case.school_id == principal.unit_id else Standing.NONE
    if principal.role == Role.SUPERVISOR:
        held = session.execute(select(MandatoryReportCase.case_id).where(
            MandatoryReportCase.case_id == case.case_id,
            _held_by(_supervised(principal.unit_id), ("accepted",)))).first()
        return Standing.SUPERVISING if held is not None else Standing.NONE
    if principal.role not in AGENCY_ROLES:
        return Standing.NONE
    routed = session.execute(select(CaseAgency.id).where(
        CaseAgency.case_id == case.case_id, CaseAgency.agency_id == principal.unit_id,
        CaseAgency.via == "routing")).first()
    if routed is not None:
        return Standing.LEAD if lead_agency_id(session, case.case_id) == principal.unit_id else Standing.ROUTED
    states = set(session.execute(select(Referral.state).where(
        Referral.case_id == case.case_id, Referral.to_agency_id == principal.unit_id)).scalars())
    if "accepted" in states:
        return Standing.REFERRED
    if "requested" in states:
        return Standing.REFERRAL_PENDING
    return Standing.NONE


def _allows(session: Session, principal: Principal, case: MandatoryReportCase, held: Standing, action: str) -> bool:
    if principal.role not in PERMISSIONS[action]:
        return False
    if action in ACTIONS[held]:
        return True
    return (action in CLOSE_DUTY_ACTIONS and held == Standing.ROUTED
            and close_duty_agency_id(session, case.case_id) == principal.unit_id)


def allowed_actions(session: Session, principal: Principal, case: MandatoryReportCase) -> frozenset[str]:
    """Every case action the principal may take on this case now (what a console shows as buttons)."""
    held = standing(session, principal, case)
    return frozenset(a for a in PERMISSIONS if a != "list" and _allows(session, principal, case, held, a))


def check(session: Session, principal: Principal, action: str, case: MandatoryReportCase) -> Standing:
    """The principal's standing if it may take `action` on `case`; `CaseNotFound` or `Forbidden` otherwise."""
    require(principal, action)
    held = standing(session, principal, case)
    if held == Standing.NONE:
        raise CaseNotFound(f"case {case.case_id!r} is not in the scope of unit {principal.unit_id!r}")
    if _allows(session, principal, case, held, action):
        return held
    verb = "reveal the reporter of" if action == "reporter" else action.replace("_", " ")
    if held == Standing.REFERRAL_PENDING:
        raise Forbidden(f"unit {principal.unit_id!r} has only been asked to take a referral of case {case.case_id}: "
                        f"accept the referral first, then it may {verb} it")
    if action in LEAD_ONLY:
        who = f"only the lead agency ({lead_agency_id(session, case.case_id) or 'none routed'})"
        if action in CLOSE_DUTY_ACTIONS and (duty := close_duty_agency_id(session, case.case_id)):
            who += f" or the agency responsible for closing it ({duty})"
        raise Forbidden(f"{who} may {verb} case {case.case_id}; unit {principal.unit_id!r} is {held.value}")
    raise Forbidden(f"unit {principal.unit_id!r} ({held.value}) may not {verb} case {case.case_id}")
