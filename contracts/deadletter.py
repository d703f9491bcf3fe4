"""Rejected input, kept byte-exact with where it came from and why it was refused."""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import Field

from contracts.common import AwareDatetime, Contract
from contracts.errors import FieldError


class FieldProblem(Contract):
    field: str
    reason: str
    got: str | None = None


class DeadLettered(Contract):
    """`cn.childsafe.deadletter.v1`: ``value_b64`` is the original message, byte for byte."""

    source_topic: str
    source_partition: int = Field(ge=-1)
    source_offset: int = Field(ge=-1)
    key_b64: str | None = None
    value_b64: str
    reason: str = Field(min_length=1, max_length=4000)
    errors: list[FieldProblem] = Field(default_factory=list)
    rejected_by: str
    rejected_at: AwareDatetime

    @classmethod
    def of(cls, *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
           errors: list[FieldError], rejected_by: str, rejected_at: datetime,
           reason: str | None = None) -> "DeadLettered":
        """The record of one rejected message: its bytes kept exactly, each field's problem listed."""
        return cls(
            source_topic=topic, source_partition=partition, source_offset=offset,
            key_b64=base64.b64encode(key).decode() if key is not None else None,
            value_b64=base64.b64encode(value or b"").decode(),
            reason=(reason or "; ".join(str(e) for e in errors) or "rejected")[:4000],
            errors=[FieldProblem(**e.as_dict()) for e in errors[:50]],
            rejected_by=rejected_by, rejected_at=rejected_at)
