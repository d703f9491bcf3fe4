"""Classification of an incident report, as plain rules a reviewer can read against DOMAIN.md.

Pure (contracts only): triage routes with it, and the console previews a report with it.

Three questions: must it be reported (the nine situations, plus categories that imply them)?
Which agencies must act? Is it an emergency that someone must be told about right now?
"""

from __future__ import annotations

from dataclasses import dataclass, field

from contracts.agency_rules import TOLD_ON_EVERY_REPORT, case_agencies, category_agencies
from contracts.cases import CaseRisk
from contracts.common import AgencyKind, Priority
from contracts.incident import IncidentCategory as C
from contracts.incident import IncidentReported, Severity, Sex
from contracts.incident import MandatorySituation as S

SERIOUS = frozenset({Severity.SERIOUS, Severity.CRITICAL})

# Categories that are emergencies for the whole school: every guardian is told at once.
SCHOOL_EMERGENCIES = frozenset({C.CAMPUS_INTRUSION_VIOLENCE, C.FIRE, C.NATURAL_DISASTER, C.PUBLIC_HEALTH_EMERGENCY})

# Harm categories where a child in present danger is situation 9 (present danger of unlawful harm).
UNLAWFUL_HARM = frozenset({C.ABUSE_HARM, C.SEXUAL_ASSAULT, C.BULLYING, C.TRAFFICKING, C.MISSING_CHILD,
                           C.CAMPUS_INTRUSION_VIOLENCE})

# Situations and categories that make a case high-risk (assigned within 1 hour, not 3).
HIGH_RISK_SITUATIONS = frozenset({S.PRIVATE_PARTS_INJURY, S.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY,
                                  S.GIRL_14_PLUS_PREGNANCY_FROM_ASSAULT, S.UNKNOWN_ORIGIN_MISSING_TRAFFICKED,
                                  S.ORGANISED_BEGGING})
HIGH_RISK_CATEGORIES = frozenset({C.SEXUAL_ASSAULT, C.MISSING_CHILD, C.TRAFFICKING})

@dataclass(frozen=True)
class Notice:
    """Someone must be told: which audience, how urgently, and why."""

    audience: str  # "school_guardians" | "school_contacts" | "agency_duty_officers"
    priority: Priority
    reason: str
    agencies: tuple[AgencyKind, ...] = ()


@dataclass(frozen=True)
class Triage:
    situations: tuple[S, ...]
    triggers: tuple[str, ...]
    agencies: tuple[AgencyKind, ...]
    risk: CaseRisk
    notices: tuple[Notice, ...] = field(default_factory=tuple)

    @property
    def mandatory(self) -> bool:
        return bool(self.triggers)


def implied_situations(r: IncidentReported) -> dict[S, str]:
    """Situations the category and facts imply, even if the reporter did not tick them."""
    girls = [c for c in r.children if c.sex is Sex.FEMALE]
    implied: dict[S, str] = {}
    if r.category is C.SEXUAL_ASSAULT:
        if any(c.age < 14 for c in girls):
            implied[S.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY] = "category:sexual_assault+girl_under_14"
        elif any(c.pregnant for c in girls):
            implied[S.GIRL_14_PLUS_PREGNANCY_FROM_ASSAULT] = "category:sexual_assault+pregnancy"
        else:
            implied[S.OTHER_SERIOUS_HARM_OR_DANGER] = "category:sexual_assault"
    if any(c.pregnant and c.age < 14 for c in girls):
        implied[S.GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY] = "girl_under_14_pregnant"
    if r.category in (C.MISSING_CHILD, C.TRAFFICKING):
        implied[S.UNKNOWN_ORIGIN_MISSING_TRAFFICKED] = f"category:{r.category.value}"
    if r.category is C.ABUSE_HARM:
        if any(c.injured for c in r.children) or r.severity in SERIOUS:
            implied[S.MULTIPLE_INJURIES_OR_NEGLECT_WITH_VIOLENCE] = "category:abuse_harm+injury"
        else:
            implied[S.OTHER_SERIOUS_HARM_OR_DANGER] = "category:abuse_harm"
    if r.category is C.BULLYING and r.severity in SERIOUS:
        implied[S.MULTIPLE_INJURIES_OR_NEGLECT_WITH_VIOLENCE] = "category:bullying+serious"
    if r.category in (C.SELF_HARM, C.POISONING_OTHER) and r.severity is Severity.CRITICAL:
        implied[S.DISABILITY_OR_DEATH_ABNORMAL_CAUSE] = f"category:{r.category.value}+critical"
    if r.child_in_danger_now and r.category in UNLAWFUL_HARM:
        implied.setdefault(S.OTHER_SERIOUS_HARM_OR_DANGER, "child_in_danger_now")
    return implied


def agencies_for(r: IncidentReported, situations: set[S]) -> tuple[AgencyKind, ...]:
    """Public security always (立即), civil affairs and education (Minor Protection Law art. 11), plus the
    category's and the situations' agencies: the rule table case routing reads too."""
    return case_agencies(r.category, situations)


def notices_for(r: IncidentReported, mandatory: bool) -> tuple[Notice, ...]:
    """Who must be told now. When a case opens, the agencies' duty officers are told by the case
    workflow (its duty alert forwards the case and starts the clocks), so triage does not tell them too."""
    notices: list[Notice] = []
    urgent = r.severity in SERIOUS or r.child_in_danger_now
    agencies = category_agencies(r.category)
    if r.category in SCHOOL_EMERGENCIES and urgent:
        notices.append(Notice("school_guardians", Priority.EMERGENCY, f"school emergency: {r.category.value}"))
        if not mandatory:
            notices.append(Notice("agency_duty_officers", Priority.EMERGENCY, f"school emergency: {r.category.value}",
                                  agencies))
    elif r.child_in_danger_now:
        if not mandatory:
            notices.append(Notice("agency_duty_officers", Priority.EMERGENCY, "child in danger now",
                                  tuple(dict.fromkeys((AgencyKind.PUBLIC_SECURITY, *agencies)))))
        notices.append(Notice("school_contacts", Priority.URGENT, "child in danger now"))
    else:
        if not mandatory and r.category in TOLD_ON_EVERY_REPORT:
            notices.append(Notice("agency_duty_officers", Priority.EMERGENCY if urgent else Priority.URGENT,
                                  f"{r.category.value} reported", agencies))
        if not mandatory and r.severity in SERIOUS:
            notices.append(Notice("school_contacts", Priority.URGENT, f"serious {r.category.value}"))
    return tuple(notices)


def classify(r: IncidentReported) -> Triage:
    implied = implied_situations(r)
    triggers = [f"ticked:situation_{s.value}" for s in r.mandatory_situations]
    triggers += [f"{why}->situation_{s.value}" for s, why in sorted(implied.items()) if s not in r.mandatory_situations]
    situations = set(r.mandatory_situations) | set(implied)
    mandatory = bool(situations)
    high = (bool(situations & HIGH_RISK_SITUATIONS) or r.category in HIGH_RISK_CATEGORIES
            or r.child_in_danger_now or r.severity is Severity.CRITICAL)
    return Triage(
        situations=tuple(sorted(situations)),
        triggers=tuple(triggers),
        agencies=agencies_for(r, situations) if mandatory else (),
        risk=CaseRisk.HIGH if high else CaseRisk.NORMAL,
        notices=notices_for(r, mandatory),
    )
