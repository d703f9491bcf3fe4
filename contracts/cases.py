"""Commands to the mandatory-reporting case workflow."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import Field

from contracts.common import AgencyKind, AwareDatetime, Contract, DistrictCode, LongText, SchoolId, ShortText
from contracts.incident import ChildInvolved, IncidentCategory, MandatorySituation, Reporter, Severity
from contracts.sealed import sealable


class CaseRisk(StrEnum):
    HIGH = "high"
    NORMAL = "normal"


class OpenCase(Contract):
    """`cn.childsafe.case.open.v1`: open one case for one report (the case id derives from the report id)."""

    command: Literal["open_case"] = "open_case"
    case_id: str = Field(min_length=1, max_length=64)
    report_id: str = Field(min_length=1, max_length=128)
    school_id: SchoolId
    district_code: DistrictCode
    category: IncidentCategory
    severity: Severity
    risk: CaseRisk
    situations: list[MandatorySituation]
    triggers: list[ShortText] = Field(min_length=1, description="why the report is mandatory, in rule names")
    agencies: list[AgencyKind] = Field(min_length=1)
    occurred_at: AwareDatetime
    reported_at: AwareDatetime
    children: list[ChildInvolved] = Field(default_factory=list)
    summary: sealable(LongText) = Field(description="the report's description (sealed): case detail, opened in the "
                                                   "case store only")
    reporter: Reporter
