"""The CAP threads emergency managers started from the console: what the running-alerts screen lists, and
what an Update or Cancel from the console must reference (original sender, identifier, sent; its status)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, Text, or_, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import console.accounts  # noqa: F401  (console_users, which threads refer to)
from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base


class ConsoleAlertThread(Base):
    """One CAP thread (an Alert and the Updates/Cancel that follow it), keyed ``sender,identifier`` of its Alert."""

    __tablename__ = "console_alert_threads"

    root: Mapped[str] = mapped_column(String(300), primary_key=True)
    sender: Mapped[str] = mapped_column(String(100))
    identifier: Mapped[str] = mapped_column(String(200))
    sent: Mapped[datetime] = mapped_column(UtcDateTime)
    exercise: Mapped[bool] = mapped_column(Boolean)
    event: Mapped[str] = mapped_column(String(40))  # the closed vocabulary's code (console/emergency_form.py)
    area_json: Mapped[str] = mapped_column(Text)  # {"districts": [...], "circles": [...], "desc": "..."}
    created_by: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    state: Mapped[str] = mapped_column(String(16), index=True)  # "running" | "cancelled"
    messages: Mapped[int] = mapped_column()  # CAP messages sent in the thread (Alert + Updates + Cancel)
    last_identifier: Mapped[str] = mapped_column(String(200))
    last_sent: Mapped[datetime] = mapped_column(UtcDateTime)
    expires: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


def running(session: Session, now: datetime, limit: int = 200) -> list[ConsoleAlertThread]:
    """Threads neither cancelled nor past their latest message's ``expires``."""
    return list(session.scalars(select(ConsoleAlertThread).where(
        ConsoleAlertThread.state == "running",
        or_(ConsoleAlertThread.expires.is_(None), ConsoleAlertThread.expires > now))
        .order_by(ConsoleAlertThread.sent.desc()).limit(limit)))


def ended(session: Session, now: datetime, limit: int = 50) -> list[ConsoleAlertThread]:
    """Cancelled or expired threads, the latest first."""
    return list(session.scalars(select(ConsoleAlertThread).where(
        or_(ConsoleAlertThread.state != "running", ConsoleAlertThread.expires <= now))
        .order_by(ConsoleAlertThread.last_sent.desc()).limit(limit)))
