"""Rejected input, kept byte-exact with where it came from and why it was refused."""

from __future__ import annotations

from pydantic import Field

from contracts.common import AwareDatetime, Contract


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
