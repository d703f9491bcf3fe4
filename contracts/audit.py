"""Who did what, when, and why: one record per routing decision or case action."""

from __future__ import annotations

from pydantic import Field

from contracts.common import AwareDatetime, Contract, ShortText


class AuditRecorded(Contract):
    """`cn.childsafe.audit.recorded.v1`: never carries names, phone numbers or report text."""

    actor: ShortText
    action: ShortText
    subject: ShortText
    outcome: ShortText
    reason: str = Field(default="", max_length=1000)
    at: AwareDatetime
    details: dict[str, str | int | bool | list[str]] = Field(default_factory=dict)
