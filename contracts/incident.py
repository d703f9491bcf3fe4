"""An incident report from a school safety officer (or any mandated reporter)."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from contracts.common import E164, AwareDatetime, Contract, DistrictCode, LongText, SchoolId, ShortText, UnitId
from contracts.sealed import sealable


class IncidentCategory(StrEnum):
    """What happened; covers items 18 (disasters), 22 (campus/product safety) and 23 (harm)."""

    TRAFFIC = "traffic"
    DROWNING = "drowning"
    FALL = "fall"
    BURN_SCALD = "burn_scald"
    FOOD_POISONING = "food_poisoning"
    POISONING_OTHER = "poisoning_other"
    BULLYING = "bullying"
    ABUSE_HARM = "abuse_harm"
    SEXUAL_ASSAULT = "sexual_assault"
    MISSING_CHILD = "missing_child"
    TRAFFICKING = "trafficking"
    SELF_HARM = "self_harm"
    CAMPUS_INTRUSION_VIOLENCE = "campus_intrusion_violence"
    SCHOOL_BUS_INCIDENT = "school_bus_incident"
    FACILITY_HAZARD = "facility_hazard"
    FIRE = "fire"
    NATURAL_DISASTER = "natural_disaster"
    PUBLIC_HEALTH_EMERGENCY = "public_health_emergency"
    OTHER = "other"


class Severity(StrEnum):
    MINOR = "minor"
    MODERATE = "moderate"
    SERIOUS = "serious"
    CRITICAL = "critical"


class MandatorySituation(IntEnum):
    """The nine situations that oblige a report (2020 opinion on mandatory reporting, art. 4)."""

    PRIVATE_PARTS_INJURY = 1
    GIRL_UNDER_14_SEXUAL_ASSAULT_OR_PREGNANCY = 2
    GIRL_14_PLUS_PREGNANCY_FROM_ASSAULT = 3
    MULTIPLE_INJURIES_OR_NEGLECT_WITH_VIOLENCE = 4
    DISABILITY_OR_DEATH_ABNORMAL_CAUSE = 5
    ABANDONMENT_OR_NO_CARE = 6
    UNKNOWN_ORIGIN_MISSING_TRAFFICKED = 7
    ORGANISED_BEGGING = 8
    OTHER_SERIOUS_HARM_OR_DANGER = 9


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"
    UNKNOWN = "unknown"


class ChildInvolved(Contract):
    """A child in the report: no name is needed to route it, and none is carried."""

    age: int = Field(ge=0, le=17, description="age in whole years; 0-17")
    sex: Sex = Sex.UNKNOWN
    injured: bool = False
    pregnant: bool = False


class ReporterRole(StrEnum):
    SCHOOL_SAFETY_OFFICER = "school_safety_officer"
    TEACHER = "teacher"
    PRINCIPAL = "principal"
    SCHOOL_DOCTOR = "school_doctor"
    SCHOOL_BUS_OPERATOR = "school_bus_operator"
    CHILDCARE_WORKER = "childcare_worker"
    MEDICAL_STAFF = "medical_staff"
    SOCIAL_WORKER = "social_worker"
    COMMUNITY_COMMITTEE = "community_committee"
    HOTEL_STAFF = "hotel_staff"
    PUBLIC_OFFICIAL = "public_official"
    OTHER = "other"


class Reporter(Contract):
    """Who reports. Identity is confidential: it goes to the case store's reporter vault only.

    ``name`` and ``phone`` are sealed (AES-GCM, :mod:`contracts.sealed`) by the HTTP intake before the
    report reaches Kafka; a client sends them plain, only the case store opens them.
    """

    role: ReporterRole
    unit_id: UnitId
    unit_name: ShortText | None = None
    name: sealable(ShortText) | None = None
    phone: sealable(E164) | None = None
    confidential: bool = True


class IncidentReported(Contract):
    """`cn.childsafe.incident.reported.v1`: one report; the CloudEvent id is the report id."""

    school_id: SchoolId
    district_code: DistrictCode
    class_id: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    occurred_at: AwareDatetime
    location: ShortText
    category: IncidentCategory
    severity: Severity
    description: sealable(LongText) = Field(description="what happened, free text (usually Chinese); sealed from the "
                                               "intake on, opened only in the case store")
    children: list[ChildInvolved] = Field(default_factory=list, max_length=200)
    children_affected: int | None = Field(default=None, ge=1, le=100_000, description=(
        "how many children are affected (e.g. pupils sick after one meal), when more than the children listed"))
    child_in_danger_now: bool = False
    mandatory_situations: list[MandatorySituation] = Field(default_factory=list, max_length=9)
    reporter: Reporter

    @field_validator("mandatory_situations")
    @classmethod
    def _unique_situations(cls, value: list[MandatorySituation]) -> list[MandatorySituation]:
        if len(set(value)) != len(value):
            raise ValueError("each situation may be ticked once")
        return sorted(value)

    @property
    def children_count(self) -> int:
        """How many children the report is about: the stated number, else those listed, else one."""
        return max(self.children_affected or 0, len(self.children), 1)
