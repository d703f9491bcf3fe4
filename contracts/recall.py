"""A recall notice for a children's product, published by a market regulator."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from contracts.common import Contract, DistrictCode, LongText, ShortText


class RecallAction(StrEnum):
    PUBLISHED = "published"
    UPDATED = "updated"
    WITHDRAWN = "withdrawn"


class RiskLevel(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    SERIOUS = "serious"


class ProductKind(StrEnum):
    """Who holds it decides who is told: schools for procured goods, guardians for registrations."""

    SCHOOL_BUS = "school_bus"
    PLAYGROUND_EQUIPMENT = "playground_equipment"
    CRIB = "crib"
    CANTEEN_SUPPLY = "canteen_supply"
    TOY = "toy"
    CHILD_CAR_SEAT = "child_car_seat"
    STATIONERY = "stationery"
    CLOTHING = "clothing"
    FOOD = "food"
    OTHER = "other"


def gtin_check_digit_ok(code: str) -> bool:
    """GS1 mod-10 check digit over GTIN-8/12/13/14."""
    digits = [int(c) for c in code]
    body, check = digits[:-1], digits[-1]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _gtin(value: str) -> str:
    if not gtin_check_digit_ok(value):
        raise ValueError("GTIN check digit does not match")
    return value


Barcode = Annotated[str, Field(pattern=r"^([0-9]{8}|[0-9]{12}|[0-9]{13}|[0-9]{14})$"), AfterValidator(_gtin)]
"""GTIN-8/12/13/14 with a valid check digit; ASCII digits only (a full-width barcode would never match a scan)."""


class RecallPublished(Contract):
    """`cn.childsafe.recall.published.v1`: identifiers are often missing; matching uses what is present."""

    recall_number: Annotated[str, Field(min_length=3, max_length=64)]
    action: RecallAction = RecallAction.PUBLISHED
    published_on: date
    producer: ShortText
    product_name: ShortText
    product_kind: ProductKind = ProductKind.OTHER
    brand: ShortText | None = None
    model: ShortText | None = None
    batch: ShortText | None = None
    production_from: date | None = None
    production_to: date | None = None
    barcode: Barcode | None = None
    quantity: int | None = Field(default=None, ge=0)
    hazard_type: ShortText
    hazard_description: LongText
    consequences: LongText | None = None
    remedy: LongText
    sales_regions: list[DistrictCode] = Field(default_factory=list, max_length=500)
    sales_channels: list[ShortText] = Field(default_factory=list, max_length=50)
    risk_level: RiskLevel

    @model_validator(mode="after")
    def _date_range(self) -> RecallPublished:
        if self.production_from and self.production_to and self.production_from > self.production_to:
            raise ValueError("production_from is after production_to")
        return self
