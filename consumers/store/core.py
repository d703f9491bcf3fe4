"""The organisations every workflow shares: schools, agencies and agencies' duty officers."""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from consumers.store.db import Base


class School(Base):
    """A school, kindergarten or childcare centre; coordinates place it inside CAP alert areas."""

    __tablename__ = "schools"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), default="primary")
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)


class Agency(Base):
    """A unit that must act on reports: a district's public security bureau, education bureau, …"""

    __tablename__ = "agencies"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    district_code: Mapped[str] = mapped_column(String(6), index=True)
    name: Mapped[str] = mapped_column(String(200))
    supervisor_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)


class DutyOfficer(Base):
    """A person on an agency's duty roster; `contact_order` 0 is called first."""

    __tablename__ = "duty_officers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(20))
    contact_order: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
