"""Value types shared by several contracts: identifiers, codes, phone numbers, levels."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

import phonenumbers
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError


class Contract(BaseModel):
    """Base for every payload: unknown fields are refused, values are immutable once parsed."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a timezone offset, e.g. 2026-11-29T08:30:00+08:00")
    return value


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
"""A timestamp with its offset: a report from Beijing and one from UTC must compare correctly."""

SchoolId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{1,63}$")]
UnitId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{1,127}$")]


def _six_ascii_digits(value: object, handler: ValidatorFunctionWrapHandler) -> str:
    try:
        return handler(value)
    except ValidationError as exc:
        if any(e["type"] == "string_pattern_mismatch" for e in exc.errors()):
            raise PydanticCustomError("string_pattern_mismatch", "must be six ASCII digits 0-9, a GB/T 2260 code such "
                                      "as 310115 (full-width and other scripts' digits are refused)") from None
        raise


# [0-9], not \d: pydantic's (Rust) regex \d is Unicode, so "３１０１１５" or "٣١٠١١٥" would pass and then never
# equal a directory's district; the JSON Schema and the OpenAPI carry the same ASCII pattern.
DistrictCode = Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$"), WrapValidator(_six_ascii_digits)]
"""GB/T 2260 six-digit administrative division code, e.g. 310115."""

ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000)]


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number in E.164 form (+<country><number>): {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


E164 = Annotated[str, AfterValidator(_e164)]
"""A phone number stored in E.164 (+86… for mainland mobiles)."""


class Priority(StrEnum):
    """How an alert is delivered: emergencies ignore quiet hours and (provider permitting) opt-outs."""

    EMERGENCY = "emergency"
    URGENT = "urgent"
    NORMAL = "normal"


class Language(StrEnum):
    ZH_CN = "zh-CN"
    EN = "en"


class AgencyKind(StrEnum):
    """The agencies a mandatory report or an alert can be routed to (DOMAIN.md, Minor Protection Law art. 11)."""

    PUBLIC_SECURITY = "public_security"
    CIVIL_AFFAIRS = "civil_affairs"
    EDUCATION = "education"
    HEALTH = "health"
    WOMENS_FEDERATION = "womens_federation"
    PROCURATORATE = "procuratorate"
    MARKET_REGULATION = "market_regulation"
    EMERGENCY_MANAGEMENT = "emergency_management"
