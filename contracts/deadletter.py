"""Rejected input, kept byte-exact with where it came from and why it was refused."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime

from pydantic import Field

from contracts.common import AwareDatetime, Contract
from contracts.errors import FieldError
from contracts.sealed import Keyring, Sealed

ORIGINAL = "deadletter.original"  # the purpose a dead letter's original bytes are sealed for
_keyring: Keyring | None = None


def seal_originals_with(keyring: Keyring | None) -> None:
    """Set once by each process's composition root: dead letters built from then on keep their original
    bytes sealed with this keyring (None: in the clear, as unit tests without keys do)."""
    global _keyring
    _keyring = keyring


# The original bytes kept in a dead letter: everything up to the largest body intake accepts (256 KiB), so any
# message that could be valid is kept whole and replayable; beyond it the record keeps the first bytes, the
# size and a SHA-256 of the whole, and stays far below a broker's default 1 MiB record limit.
DEAD_LETTER_VALUE_LIMIT = 256 * 1024
DEAD_LETTER_KEY_LIMIT = 1024


class FieldProblem(Contract):
    """Which field and which rule; never the value (``got`` is kept in the schema for old records only)."""

    field: str
    reason: str
    got: str | None = None


class DeadLettered(Contract):
    """`cn.childsafe.deadletter.v1`: the original message, byte for byte — sealed in ``value_sealed``
    (AES-GCM, opened by `childsafe deadletter replay|show`), or in ``value_b64`` when no key is configured."""

    source_topic: str
    source_partition: int = Field(ge=-1)
    source_offset: int = Field(ge=-1)
    key_b64: str | None = None
    value_b64: str = ""
    value_sealed: Sealed | None = None
    value_bytes: int | None = Field(default=None, ge=0, description="size of the original value")
    value_sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$", description="digest of the whole value")
    value_truncated: bool = Field(default=False, description="only the first bytes are kept: not replayable")
    reason: str = Field(min_length=1, max_length=4000)
    errors: list[FieldProblem] = Field(default_factory=list)
    rejected_by: str
    rejected_at: AwareDatetime

    @classmethod
    def of(cls, *, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
           errors: list[FieldError], rejected_by: str, rejected_at: datetime,
           reason: str | None = None) -> DeadLettered:
        """The record of one rejected message: its bytes kept exactly (sealed) up to ``DEAD_LETTER_VALUE_LIMIT``
        (beyond it, cut, with the size and digest of the original), each field and rule listed.

        Neither the reason nor the errors carry the offending value: it may be a name or a phone number.
        """
        value = value or b""
        kept = value[:DEAD_LETTER_VALUE_LIMIT]
        sealed = _keyring.seal_bytes(kept, ORIGINAL) if _keyring is not None else None
        for e in errors:  # callers often pass f"...: {exc}"; keep the field and the rule, drop the value
            if reason and e.got is not None:
                reason = reason.replace(f" (got {e.got})", "")
        rules = "; ".join(f"{e.field}: {e.reason}" for e in errors)
        return cls(
            source_topic=topic, source_partition=partition, source_offset=offset,
            key_b64=base64.b64encode(key[:DEAD_LETTER_KEY_LIMIT]).decode() if key is not None else None,
            value_b64="" if sealed else base64.b64encode(kept).decode(), value_sealed=sealed,
            value_bytes=len(value), value_sha256=hashlib.sha256(value).hexdigest(),
            value_truncated=len(kept) < len(value),
            reason=(reason or rules or "rejected")[:4000],
            errors=[FieldProblem(field=e.field, reason=e.reason) for e in errors[:50]],
            rejected_by=rejected_by, rejected_at=rejected_at)

    def original(self, keyring: Keyring | None) -> bytes:
        """The rejected message's bytes; a sealed one needs the keyring."""
        if self.value_sealed is None:
            return base64.b64decode(self.value_b64)
        if keyring is None:
            raise ValueError("this dead letter's original is sealed: configure CHILDSAFE_FIELD_KEYS")
        return keyring.open_bytes(self.value_sealed, ORIGINAL)
