"""One SMS to one recipient, and what the provider said about it."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from contracts.common import E164, AwareDatetime, Contract, Language, Priority
from contracts.sealed import sealable


class SmsJob(Contract):
    """`cn.childsafe.sms.job.v1`: at most one message is ever sent per ``dedup_key`` (alert id + recipient)."""

    dedup_key: str = Field(min_length=3, max_length=300)
    alert_id: str = Field(min_length=1, max_length=128)
    recipient_id: str = Field(min_length=1, max_length=128)
    to: E164
    body: str = Field(min_length=1, max_length=1000)
    language: Language = Language.ZH_CN
    priority: Priority
    segments: int = Field(ge=1, le=10)
    validity_seconds: int | None = Field(default=None, ge=1, le=36000)
    guaranteed_reach: bool = False
    contact_order: int = Field(default=0, ge=0, description="0 = first guardian; fallbacks count up")
    requested_at: AwareDatetime | None = Field(default=None, description="when the alert was requested: latency clock")


class SmsDeliveryStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    FAILED = "failed"
    RECEIVED = "received"


class SmsStatusReported(Contract):
    """`cn.childsafe.sms.status.v1`: a provider status callback or an inbound reply."""

    message_sid: str = Field(min_length=2, max_length=64)
    status: SmsDeliveryStatus
    error_code: int | None = None
    idempotency_token: str | None = Field(default=None, max_length=200)
    inbound_body: sealable(Annotated[str, Field(max_length=1600)]) | None = Field(
        default=None, description="the reply's text, sealed on the topic (contracts.sealed)")
    from_number: sealable(E164) | None = Field(default=None, description="who replied, sealed on the topic")
    received_at: AwareDatetime
