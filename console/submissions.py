"""What an officer sent from the console, so their school can see each report and what became of it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

import console.accounts  # noqa: F401  (console_users, which submissions refer to)
from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base


class ConsoleSubmission(Base):
    """One accepted report (the intake answered 202); keyed by the Idempotency-Key the form carried."""

    __tablename__ = "console_submissions"

    idempotency_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "incident" | "safety"
    school_id: Mapped[str] = mapped_column(String(64), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("console_users.id"))
    category: Mapped[str] = mapped_column(String(40))
    mandatory: Mapped[bool] = mapped_column(Boolean)
    event_id: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime)

def record(session: Session, **values) -> None:
    """Idempotent: a retried send with the same key records nothing new."""
    if session.get(ConsoleSubmission, values["idempotency_key"]) is None:
        session.add(ConsoleSubmission(**values))

def of_school(session: Session, school_id: str, limit: int = 30) -> list[ConsoleSubmission]:
    return list(session.scalars(select(ConsoleSubmission).where(ConsoleSubmission.school_id == school_id)
                                .order_by(ConsoleSubmission.submitted_at.desc()).limit(limit)))
