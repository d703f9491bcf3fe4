"""Alerts whose pending sends were stopped (``alerts.cancelled.v1``), recorded once per alert id.

The fan-out reads this before each directory page and the dispatcher before each send: a cancelled alert
gets no new jobs and no new messages; what was already handed to the provider stays sent.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from consumers.store.db import Base


class SmsCancellation(Base):
    __tablename__ = "sms_cancellations"

    alert_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200))
    source_event_id: Mapped[str] = mapped_column(String(128))
    cancelled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
