"""The SMS ledger: one row per (alert, recipient), claimed before sending, so nobody is told twice.

Times the dispatcher compares (``due_at``, ``lease_until``) are epoch seconds from the injected clock.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consumers.store.db import Base


class SmsAlert(Base):
    """An alert the fan-out has seen: its request (to recompose for fallbacks) and how far the fan-out got."""

    __tablename__ = "sms_alerts"

    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_json: Mapped[str] = mapped_column(Text)
    requires_ack: Mapped[bool] = mapped_column(Boolean, default=False)
    fanout_cursor: Mapped[str | None] = mapped_column(String(128), nullable=True)
    fanout_done: Mapped[bool] = mapped_column(Boolean, default=False)
    jobs_emitted: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SmsLedgerEntry(Base):
    """State: sending → accepted (sid known) | retry | reconcile | refused | skipped | expired | failed."""

    __tablename__ = "sms_ledger"
    __table_args__ = (
        UniqueConstraint("alert_id", "recipient_id", name="uq_sms_ledger_alert_recipient"),
        Index("ix_sms_ledger_state_due", "state", "due_at"),
        Index("ix_sms_ledger_created_at", "created_at"),  # the indicators count a month's SMS (branch `indicators`)
        Index("ix_sms_ledger_district_created", "district_code", "created_at"),  # a district's SMS in a month
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(300), unique=True)
    alert_id: Mapped[str] = mapped_column(String(128))
    recipient_id: Mapped[str] = mapped_column(String(128))
    marker: Mapped[str] = mapped_column(String(32), unique=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    state: Mapped[str] = mapped_column(String(16))
    provider_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    lease_until: Mapped[float | None] = mapped_column(Float, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    fallback_pending: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    job_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    # the recipient's district when the row was written (consumers.directory.districts); None: not in the directory
    district_code: Mapped[str | None] = mapped_column(String(6), nullable=True)


class SmsCallbackToken(Base):
    """A status callback already applied (Twilio's I-Twilio-Idempotency-Token): retries are ignored."""

    __tablename__ = "sms_callback_tokens"

    token: Mapped[str] = mapped_column(String(200), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SmsAcknowledgement(Base):
    """A recipient answered an alert that asked for acknowledgement (1 / 收到)."""

    __tablename__ = "sms_acks"

    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20))
    body: Mapped[str] = mapped_column(String(160))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
