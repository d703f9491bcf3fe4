"""CloudEvents 1.0 envelope around every payload, so any Kafka client can produce and read it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from contracts.common import AwareDatetime

T = TypeVar("T", bound=BaseModel)

SOURCE_PATTERN = r"^[A-Za-z0-9/][A-Za-z0-9:/._-]{0,199}$"


class CloudEvent(BaseModel, Generic[T]):
    """The CloudEvents 1.0 structured-mode JSON attributes we use, plus a correlation extension."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    TYPE: ClassVar[str] = ""

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
    source: str = Field(pattern=SOURCE_PATTERN, description="URI-reference of the producer, e.g. /intake/http")
    type: str
    time: AwareDatetime
    subject: str | None = Field(default=None, max_length=200)
    datacontenttype: Literal["application/json"] = "application/json"
    correlationid: str | None = Field(default=None, max_length=128, description="follows one report from intake to SMS")
    data: T

    @classmethod
    def new(cls, data: T, *, source: str, subject: str | None = None, id: str | None = None,
            correlationid: str | None = None, time: datetime | None = None):
        event_id = id or uuid.uuid4().hex
        return cls(id=event_id, source=source, type=cls.TYPE, time=time or datetime.now(UTC),
                   subject=subject, correlationid=correlationid or event_id, data=data)

    def to_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()
