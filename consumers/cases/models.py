"""The case store: one mandatory-report case per report, the agencies it went to, its history and clocks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base


class MandatoryReportCase(Base):
    """A case opened for one report; `case_id` is derived by the producer, `report_id` is unique."""

    __tablename__ = "cases"
    __table_args__ = (Index("ix_cases_reported_at", "reported_at"),)  # the indicators count a month's cases

    case_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    report_id: Mapped[str] = mapped_column(String(128), unique=True)
    school_id: Mapped[str] = mapped_column(String(64), index=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    category: Mapped[str] = mapped_column(String(40))
    severity: Mapped[str] = mapped_column(String(16))
    risk: Mapped[str] = mapped_column(String(8))
    situations: Mapped[list] = mapped_column(JSON)
    triggers: Mapped[list] = mapped_column(JSON)
    children: Mapped[list] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), index=True)
    assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(200), nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    reported_at: Mapped[datetime] = mapped_column(UtcDateTime)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseAgency(Base):
    """An agency a case was routed (by law) or referred to; its officers see the case."""

    __tablename__ = "case_agencies"
    __table_args__ = (UniqueConstraint("case_id", "agency_id", name="uq_case_agencies_case_agency"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    case: Mapped[MandatoryReportCase] = relationship(lazy="raise")  # orders inserts: case first
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    via: Mapped[str] = mapped_column(String(16))  # "routing"; "referral" rows (older releases) give no access
    forwarded_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseEvent(Base):
    """One entry of a case's history: a transition, note, referral, escalation; who, when, what and why."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    case: Mapped[MandatoryReportCase] = relationship(lazy="raise")  # orders inserts: case first
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(24))
    from_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_state: Mapped[str | None] = mapped_column(String(16), nullable=True)
    what: Mapped[str] = mapped_column(String(200))
    why: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)


class Referral(Base):
    """A case referred to another agency: requested → accepted | rejected (with reason) → completed; one still
    requested or accepted when the case is closed is ended."""

    __tablename__ = "case_referrals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    case: Mapped[MandatoryReportCase] = relationship(lazy="raise")  # orders inserts: case first
    to_agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16))
    answer_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class CaseDeadline(Base):
    """One duty's clock: due, met, breached (kept forever once set) and how far it has escalated."""

    __tablename__ = "case_deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    case: Mapped[MandatoryReportCase] = relationship(lazy="raise")  # orders inserts: case first
    duty: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    met_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    breached_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    next_escalation_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True, index=True)
