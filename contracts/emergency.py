"""An emergency alert in CAP 1.2 terms (OASIS CAP 1.2; GB/T 35965.1 is based on it)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from contracts.common import AwareDatetime, Contract, LongText, ShortText


class CapStatus(StrEnum):
    ACTUAL = "Actual"
    EXERCISE = "Exercise"
    SYSTEM = "System"
    TEST = "Test"
    DRAFT = "Draft"


class CapMsgType(StrEnum):
    ALERT = "Alert"
    UPDATE = "Update"
    CANCEL = "Cancel"
    ACK = "Ack"
    ERROR = "Error"


class CapScope(StrEnum):
    PUBLIC = "Public"
    RESTRICTED = "Restricted"
    PRIVATE = "Private"


class CapCategory(StrEnum):
    GEO = "Geo"
    MET = "Met"
    SAFETY = "Safety"
    SECURITY = "Security"
    RESCUE = "Rescue"
    FIRE = "Fire"
    HEALTH = "Health"
    ENV = "Env"
    TRANSPORT = "Transport"
    INFRA = "Infra"
    CBRNE = "CBRNE"
    OTHER = "Other"


class CapUrgency(StrEnum):
    IMMEDIATE = "Immediate"
    EXPECTED = "Expected"
    FUTURE = "Future"
    PAST = "Past"
    UNKNOWN = "Unknown"


class CapSeverity(StrEnum):
    EXTREME = "Extreme"
    SEVERE = "Severe"
    MODERATE = "Moderate"
    MINOR = "Minor"
    UNKNOWN = "Unknown"


class CapCertainty(StrEnum):
    OBSERVED = "Observed"
    LIKELY = "Likely"
    POSSIBLE = "Possible"
    UNLIKELY = "Unlikely"
    UNKNOWN = "Unknown"


class CapResponseType(StrEnum):
    SHELTER = "Shelter"
    EVACUATE = "Evacuate"
    PREPARE = "Prepare"
    EXECUTE = "Execute"
    AVOID = "Avoid"
    MONITOR = "Monitor"
    ASSESS = "Assess"
    ALL_CLEAR = "AllClear"
    NONE = "None"


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]


class Point(Contract):
    lat: Latitude
    lon: Longitude


class Circle(Contract):
    center: Point
    radius_km: float = Field(ge=0, le=20_000)


class NamedValue(Contract):
    """A CAP ``valueName``/``value`` pair (geocode, eventCode): a name may repeat, so these are kept as a list."""

    name: ShortText
    value: ShortText


def _pairs(value):
    """A ``{name: value}`` mapping (the v1 shape, still accepted) becomes a list of pairs."""
    if isinstance(value, dict):
        return [{"name": k, "value": v} for k, v in value.items()]
    return value


class Area(Contract):
    area_desc: ShortText
    polygons: list[Annotated[list[Point], Field(min_length=4)]] = Field(default_factory=list)
    circles: list[Circle] = Field(default_factory=list)
    geocodes: list[NamedValue] = Field(default_factory=list, description="every <geocode> of the area, in order")

    _geocodes_as_pairs = field_validator("geocodes", mode="before")(_pairs)


class CapReference(Contract):
    sender: ShortText
    identifier: ShortText
    sent: AwareDatetime


class MissingChild(Contract):
    """A missing-child alert widens over time from where the child was last seen; no name is carried."""

    last_seen_at: AwareDatetime
    last_seen: Point
    age: int = Field(ge=0, le=17)
    description: ShortText = Field(description="clothing and appearance, no name")
    found: bool = False


class InfoText(Contract):
    """The wording of another ``info`` block of the same alert, in another language."""

    language: str = Field(min_length=2, max_length=35)
    event: ShortText
    headline: ShortText | None = None
    instruction: LongText | None = None


class EmergencyAlertIssued(Contract):
    """`cn.childsafe.emergency.alert.issued.v1`: one CAP alert; its main info block (zh-CN, else the first)
    and the wording of the others in ``translations``."""

    identifier: ShortText
    sender: ShortText
    sent: AwareDatetime
    status: CapStatus
    msg_type: CapMsgType
    scope: CapScope
    addresses: list[ShortText] = Field(default_factory=list)
    references: list[CapReference] = Field(default_factory=list)
    language: str = "zh-CN"
    categories: list[CapCategory] = Field(min_length=1)
    event: ShortText
    urgency: CapUrgency
    severity: CapSeverity
    certainty: CapCertainty
    response_types: list[CapResponseType] = Field(default_factory=list)
    headline: ShortText | None = None
    description: LongText | None = None
    instruction: LongText | None = None
    event_codes: list[NamedValue] = Field(default_factory=list)
    effective: AwareDatetime | None = None
    onset: AwareDatetime | None = None
    expires: AwareDatetime | None = None
    translations: list[InfoText] = Field(default_factory=list)
    areas: list[Area] = Field(default_factory=list)
    missing_child: MissingChild | None = None

    @model_validator(mode="after")
    def _cap_rules(self) -> EmergencyAlertIssued:
        if self.scope is CapScope.PRIVATE and not self.addresses:
            raise ValueError("scope Private requires addresses")
        if self.msg_type in (CapMsgType.UPDATE, CapMsgType.CANCEL) and not self.references:
            raise ValueError(f"msgType {self.msg_type} requires references to the earlier alert")
        return self

    _event_codes_as_pairs = field_validator("event_codes", mode="before")(_pairs)

    @property
    def is_exercise(self) -> bool:
        """Anything but Actual is marked as an exercise/test wherever a person sees it."""
        return self.status is not CapStatus.ACTUAL
