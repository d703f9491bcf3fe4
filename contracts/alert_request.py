"""An alert that someone must be told about, with the selector that says who."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field

from contracts.common import AgencyKind, Contract, DistrictCode, Priority, SchoolId, ShortText
from contracts.emergency import Area

EMERGENCY_VALIDITY_S = 30 * 60
"""How long the provider may hold an emergency SMS (Twilio ValidityPeriod) unless the alert or
CHILDSAFE_SMS_EMERGENCY_VALIDITY_S says otherwise: a stale emergency must not arrive hours late."""


class AlertKind(StrEnum):
    """Selects the message template; sensitive kinds never carry names or case detail."""

    INCIDENT_EMERGENCY = "incident_emergency"
    MANDATORY_REPORT_DUTY = "mandatory_report_duty"
    RECALL = "recall"
    HAZARD_FOLLOWUP = "hazard_followup"
    DRILL_OVERDUE = "drill_overdue"
    OUTBREAK = "outbreak"
    CAP_EMERGENCY = "cap_emergency"
    MISSING_CHILD = "missing_child"
    CASE_ESCALATION = "case_escalation"


SENSITIVE_KINDS = frozenset({AlertKind.MANDATORY_REPORT_DUTY, AlertKind.MISSING_CHILD, AlertKind.CASE_ESCALATION})


class SchoolGuardians(Contract):
    kind: Literal["school_guardians"] = "school_guardians"
    school_id: SchoolId


class ClassGuardians(Contract):
    kind: Literal["class_guardians"] = "class_guardians"
    school_id: SchoolId
    class_id: str = Field(min_length=1, max_length=64)


class DistrictSchools(Contract):
    """The contacts (head, safety officer) of every school in a district."""

    kind: Literal["district_schools"] = "district_schools"
    district_code: DistrictCode


class SchoolContacts(Contract):
    kind: Literal["school_contacts"] = "school_contacts"
    school_id: SchoolId


class AgencyDutyOfficers(Contract):
    kind: Literal["agency_duty_officers"] = "agency_duty_officers"
    agencies: list[AgencyKind] = Field(min_length=1)
    district_code: DistrictCode


class ProductHolders(Contract):
    kind: Literal["product_holders"] = "product_holders"
    recall_number: str = Field(min_length=3, max_length=64)
    min_strength: Literal["exact", "strong"] = "strong"


class RecallHolders(Contract):
    """Holders a recall was matched to in the streams layer, named by id (at most 1000 of each per alert):
    the fan-out tells each listed school's contacts and each listed guardian, and matches nothing itself."""

    kind: Literal["recall_holders"] = "recall_holders"
    recall_number: str = Field(min_length=3, max_length=64)
    school_ids: list[SchoolId] = Field(default_factory=list, max_length=1000)
    guardian_ids: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(default_factory=list,
                                                                                   max_length=1000)


class SchoolList(Contract):
    """Listed schools' contacts (and their guardians): one ring of a widening alert, or the schools in a CAP
    area as resolved by the streams layer (at most 1000 per alert)."""

    kind: Literal["school_list"] = "school_list"
    school_ids: list[SchoolId] = Field(min_length=1, max_length=1000)
    include_guardians: bool = True


class SchoolsInArea(Contract):
    """School contacts and guardians of schools inside a CAP area (polygon, circle, geocode)."""

    kind: Literal["schools_in_area"] = "schools_in_area"
    areas: list[Area] = Field(min_length=1)
    include_guardians: bool = True


AudienceSelector = Annotated[
    SchoolGuardians | ClassGuardians | DistrictSchools | SchoolContacts | AgencyDutyOfficers | ProductHolders
    | SchoolsInArea | RecallHolders | SchoolList,
    Field(discriminator="kind"),
]


class AlertRequested(Contract):
    """`cn.childsafe.alert.requested.v1`: the fan-out turns this into one SMS job per recipient."""

    alert_id: str = Field(min_length=1, max_length=128)
    kind: AlertKind
    priority: Priority
    audience: AudienceSelector
    params: dict[str, str] = Field(default_factory=dict, description="template parameters; no names for sensitive kinds")
    exercise: bool = Field(default=False, description="drill/test: every SMS is marked so")
    requires_ack: bool = False
    guaranteed_reach: bool = Field(default=False, description="try the next guardian when one cannot be reached")
    validity_seconds: int | None = Field(default=None, ge=1, le=36000,
                                         description="None: the dispatcher's default for the priority")
    source_event_id: str = Field(min_length=1, max_length=128)
    reason: ShortText

    @property
    def sensitive(self) -> bool:
        return self.kind in SENSITIVE_KINDS
