"""Which children's products a holder has: a school's procured assets or a guardian's own registrations.

One record per holder on a compacted topic keyed by holder (``school:<id>`` / ``guardian:<id>``): all of
a holder's products land on one partition, so a recall matched partition by partition tells each holder
once. Registrations may be used for safety purposes only (DOMAIN.md, Recalls).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.common import AwareDatetime, Contract, SchoolId, ShortText
from contracts.recall import Barcode, ProductKind

DirectoryId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")]


class HolderKind(StrEnum):
    """Schools are told about procured goods (buses, cribs, canteen supplies), guardians about their own."""

    SCHOOL = "school"
    GUARDIAN = "guardian"


class RegisteredProduct(Contract):
    registration_id: DirectoryId
    product_kind: ProductKind = ProductKind.OTHER
    product_name: ShortText
    brand: ShortText | None = None
    model: ShortText | None = None
    batch: ShortText | None = None
    barcode: Barcode | None = None
    produced_on: date | None = None


class ProductHoldings(Contract):
    """`cn.childsafe.product.holdings.v1`: the full current list of one holder's products (empty: none left)."""

    holder_kind: HolderKind
    holder_id: DirectoryId
    school_id: SchoolId | None = Field(default=None, description="the holder's school, for reporting only")
    products: list[RegisteredProduct] = Field(default_factory=list, max_length=5000)
    updated_at: AwareDatetime

    @property
    def holder_key(self) -> str:
        return f"{self.holder_kind.value}:{self.holder_id}"
