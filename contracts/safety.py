"""Campus safety reports: inspections, drills and food-safety checks (item 22, item 18 drills)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from pydantic import Field

from contracts.common import AwareDatetime, Contract, DistrictCode, SchoolId, ShortText, UnitId


class InspectionArea(StrEnum):
    BUILDINGS = "buildings"
    FIRE_SAFETY = "fire_safety"
    FOOD_SAFETY = "food_safety"
    SCHOOL_BUS = "school_bus"
    SECURITY = "security"
    SURROUNDING_TRAFFIC = "surrounding_traffic"
    WATER_HAZARDS = "water_hazards"


class ItemResult(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    NOT_APPLICABLE = "not_applicable"


class InspectionItem(Contract):
    area: InspectionArea
    item: ShortText
    result: ItemResult
    critical: bool = False
    note: ShortText | None = None


class DrillKind(StrEnum):
    EVACUATION = "evacuation"
    FIRE = "fire"
    EARTHQUAKE = "earthquake"
    FLOOD = "flood"
    INTRUDER_LOCKDOWN = "intruder_lockdown"


class Inspection(Contract):
    kind: Literal["inspection"] = "inspection"
    items: list[InspectionItem] = Field(min_length=1, max_length=500)


class Drill(Contract):
    kind: Literal["drill"] = "drill"
    drill_kind: DrillKind
    held_on: date
    participants: int = Field(ge=1, le=100_000)
    evacuation_seconds: int | None = Field(default=None, ge=1)


class FoodSafetyCheck(Contract):
    kind: Literal["food_safety_check"] = "food_safety_check"
    items: list[InspectionItem] = Field(min_length=1, max_length=200)


class SafetyReportFiled(Contract):
    """`cn.childsafe.safety.report.filed.v1`: one inspection, drill or food-safety check at one school."""

    school_id: SchoolId
    district_code: DistrictCode
    filed_at: AwareDatetime
    inspector_unit: UnitId
    body: Inspection | Drill | FoodSafetyCheck = Field(discriminator="kind")
