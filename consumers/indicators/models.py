"""The indicator database: administrative areas with their child population, and one compact fact row per
incident, drill and recall the system carried (no child, no name: a category, a place, a month, a count).

Incidents and safety reports live on topics with 30- and 90-day retention and nowhere else; the recorder
keeps these rows so a month can be counted years later. Cases, deadlines and the SMS ledger are read where
they already are.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from consumers.cases.columns import UtcDateTime
from consumers.store.db import Base


class Region(Base):
    """A GB/T 2260 area (province ``xx0000``, city ``xxxx00``, district) and, for a district, its child population
    (ages 0-17, from the statistics bureau's yearbook: the denominator of every rate per 10,000 children)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(8))  # province | city | district
    parent_code: Mapped[str | None] = mapped_column(String(6), nullable=True, index=True)
    children: Mapped[int | None] = mapped_column(Integer, nullable=True)
    children_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    source: Mapped[str | None] = mapped_column(String(200), nullable=True)


class IncidentFact(Base):
    """One incident report: where, what, which month (Asia/Shanghai) and how many children it was about."""

    __tablename__ = "indicator_incidents"
    __table_args__ = (Index("ix_indicator_incidents_month_district", "month", "district_code"),)

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(6))
    category: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    children: Mapped[int] = mapped_column(Integer)


class DrillFact(Base):
    """One drill a school held (from a campus safety report)."""

    __tablename__ = "indicator_drills"
    __table_args__ = (Index("ix_indicator_drills_month_district", "month", "district_code"),
                      Index("ix_indicator_drills_school_kind_held", "school_id", "drill_kind", "held_on"))

    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64))
    district_code: Mapped[str] = mapped_column(String(6))
    drill_kind: Mapped[str] = mapped_column(String(32))
    held_on: Mapped[date] = mapped_column(Date)
    month: Mapped[str] = mapped_column(String(7))


class RecallFact(Base):
    """A recall published, once per area it was sold in (a province or city code covers every district under it)."""

    __tablename__ = "indicator_recalls"
    __table_args__ = (Index("ix_indicator_recalls_month", "month"),)

    recall_number: Mapped[str] = mapped_column(String(64), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[str] = mapped_column(String(7))
    published_on: Mapped[date] = mapped_column(Date)
