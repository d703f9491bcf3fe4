"""The reporter vault: who reported, kept apart from the case and shown only to roles that need it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base
from contracts.incident import Reporter


class ReporterIdentity(Base):
    """The confidential reporter of one case; never copied into alerts, logs, audit records or listings."""

    __tablename__ = "case_reporters"

    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), primary_key=True)
    case: Mapped[MandatoryReportCase] = relationship(lazy="raise")  # noqa: F821  (orders inserts: case first)
    role: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[str] = mapped_column(String(128))
    unit_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)
    confidential: Mapped[bool] = mapped_column(Boolean)
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime)

    def __repr__(self) -> str:  # keep identities out of tracebacks and debug logs
        return f"<ReporterIdentity case={self.case_id} (confidential)>"


def store_reporter(session: Session, case_id: str, reporter: Reporter, now: datetime) -> None:
    session.add(ReporterIdentity(case_id=case_id, role=reporter.role.value, unit_id=reporter.unit_id,
                                 unit_name=reporter.unit_name, name=reporter.name, phone=reporter.phone,
                                 confidential=reporter.confidential, stored_at=now))


def reveal_reporter(session: Session, case_id: str) -> dict[str, str | bool | None]:
    """The identity as a dict, for roles allowed to see it (the caller has checked the role)."""
    row = session.get(ReporterIdentity, case_id)
    if row is None:
        return {}
    return {"role": row.role, "unit_id": row.unit_id, "unit_name": row.unit_name, "name": row.name,
            "phone": row.phone, "confidential": row.confidential}
