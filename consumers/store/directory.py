"""The alert directory: classes, children (no names), guardians, school contacts, opt-outs, product registrations.

Children carry no names: the SMS side only needs who to tell, never who the child is.
``child_guardians`` repeats the child's school and class so an audience is one index range scan.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from consumers.store.db import Base
from contracts.recall_match import gtin14, norm


class SchoolClass(Base):
    __tablename__ = "classes"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    grade: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Child(Base):
    """A child known only by an internal id and the class they are in."""

    __tablename__ = "children"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.id"), index=True)


class Guardian(Base):
    """A guardian's E.164 number and language; no name is needed to send an alert."""

    __tablename__ = "guardians"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    phone: Mapped[str] = mapped_column(String(20), index=True)
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")


class ChildGuardian(Base):
    """Who to call for a child, in order (0 first); school and class are copied for audience scans."""

    __tablename__ = "child_guardians"
    __table_args__ = (
        UniqueConstraint("child_id", "guardian_id", name="uq_child_guardians_child_guardian"),
        Index("ix_child_guardians_school_guardian", "school_id", "guardian_id", "contact_order"),
        Index("ix_child_guardians_class_guardian", "class_id", "guardian_id", "contact_order"),
        Index("ix_child_guardians_guardian_school", "guardian_id", "school_id"),  # a guardian's schools (indicators)
    )

    child_id: Mapped[str] = mapped_column(ForeignKey("children.id"), primary_key=True)
    contact_order: Mapped[int] = mapped_column(Integer, primary_key=True)
    guardian_id: Mapped[str] = mapped_column(ForeignKey("guardians.id"), index=True)
    school_id: Mapped[str] = mapped_column(String(64))
    class_id: Mapped[str] = mapped_column(String(64))


class SchoolContact(Base):
    """A school's own contact (head, safety officer, …), told about district-wide alerts."""

    __tablename__ = "school_contacts"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    role: Mapped[str] = mapped_column(String(32))
    phone: Mapped[str] = mapped_column(String(20))
    language: Mapped[str] = mapped_column(String(8), default="zh-CN")
    contact_order: Mapped[int] = mapped_column(Integer, default=0)


class OptOut(Base):
    """A number that asked not to get non-emergency SMS (STOP/退订, or the provider's 21610)."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    opted_out_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def registration_keys(row: dict) -> dict[str, str | None]:
    """The identifiers of one registration as recall matching compares them (``contracts.recall_match``: NFKC,
    case-folded, punctuation dropped; barcodes as GTIN-14; the name is the product name, else its kind), kept in
    indexed columns so a recall's reach is an index look-up, not a scan."""
    return {"name_key": norm(row.get("product_name") or row.get("product_kind")), "brand_key": norm(row.get("brand")),
            "model_key": norm(row.get("model")), "batch_key": norm(row.get("batch")),
            "barcode_key": gtin14(row.get("barcode"))}


def _derived(name: str):
    """A column default computed from the row being inserted (Core and ORM inserts alike)."""
    def default(context):
        return registration_keys(context.get_current_parameters())[name]
    return default


class ProductRegistration(Base):
    """Who holds which product (a school's asset or a guardian's own registration); for recall matching only.
    The ``*_key`` columns are derived (``registration_keys``): on insert by their defaults, on an upsert's update
    by ``consumers.directory.upsert`` (the table's ``info["derive"]``)."""

    __tablename__ = "product_registrations"
    __table_args__ = (
        Index("ix_product_registrations_brand_model", "brand", "model"),
        Index("ix_product_registrations_holder", "holder_kind", "holder_id"),
        {"info": {"derive": registration_keys}},
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder_kind: Mapped[str] = mapped_column(String(16))
    holder_id: Mapped[str] = mapped_column(String(64))
    product_kind: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    brand: Mapped[str | None] = mapped_column(String(100), nullable=True)
    model: Mapped[str | None] = mapped_column(String(100), nullable=True)
    batch: Mapped[str | None] = mapped_column(String(100), nullable=True)
    barcode: Mapped[str | None] = mapped_column(String(14), nullable=True, index=True)
    name_key: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True, default=_derived("name_key"))
    brand_key: Mapped[str | None] = mapped_column(String(100), nullable=True, default=_derived("brand_key"))
    model_key: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True, default=_derived("model_key"))
    batch_key: Mapped[str | None] = mapped_column(String(100), nullable=True, default=_derived("batch_key"))
    barcode_key: Mapped[str | None] = mapped_column(String(14), nullable=True, index=True,
                                                    default=_derived("barcode_key"))
