"""Rejected input, kept byte-exact with where it came from and why it was refused."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from pydantic import Field

from contracts.common import AwareDatetime, Contract
from contracts.errors import FieldError


# The original bytes kept in a dead letter: everything up to the largest body intake accepts (256 KiB), so any
# message that could be valid is kept whole and replayable; beyond it the record keeps the first bytes, the
# size and a SHA-256 of the whole, and stays far below a broker's default 1 MiB record limit.
DEAD_LETTER_VALUE_LIMIT = 256 * 1024
DEAD_LETTER_KEY_LIMIT = 1024
GOT_LIMIT = 200


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
    value_bytes: int | None = Field(default=None, ge=0, description="size of the original value")
    value_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="digest of the whole value")
    value_truncated: bool = Field(default=False, description="value_b64 holds only the first bytes: not replayable")
    reason: str = Field(min_length=1, max_length=4000)
    errors: list[FieldProblem] = Field(default_factory=list)
    rejected_by: str
    rejected_at: AwareDatetime

    @classmethod
    def of(cls, *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
           errors: list[FieldError], rejected_by: str, rejected_at: datetime,
           reason: str | None = None) -> "DeadLettered":
        """The record of one rejected message: its bytes kept exactly up to ``DEAD_LETTER_VALUE_LIMIT`` (beyond it,
        cut, with the size and digest of the original), each field's problem listed."""
        value = value or b""
        kept = value[:DEAD_LETTER_VALUE_LIMIT]
        return cls(
            source_topic=topic, source_partition=partition, source_offset=offset,
            key_b64=base64.b64encode(key[:DEAD_LETTER_KEY_LIMIT]).decode() if key is not None else None,
            value_b64=base64.b64encode(kept).decode(), value_bytes=len(value),
            value_sha256=hashlib.sha256(value).hexdigest(), value_truncated=len(kept) < len(value),
            reason=(reason or "; ".join(str(e) for e in errors) or "rejected")[:4000],
            errors=[FieldProblem(**{**e.as_dict(), "got": None if e.got is None else str(e.got)[:GOT_LIMIT]})
                    for e in errors[:50]],
            rejected_by=rejected_by, rejected_at=rejected_at)
