"""What each directory CSV file holds: its columns, how each value is checked, what it refers to."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Table

from consumers.directory.phones import to_e164
from consumers.store.core import Agency, DutyOfficer, School
from consumers.store.directory import (
    Child,
    ChildGuardian,
    Guardian,
    OptOut,
    ProductRegistration,
    SchoolClass,
    SchoolContact,
)
from contracts.common import AgencyKind, Language
from contracts.recall import ProductKind, gtin_check_digit_ok

Parse = Callable[[str], object]
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")


def ident(value: str) -> str:
    if not _ID.match(value):
        raise ValueError("expected an id of letters, digits and _.:- (at most 64)")
    return value


def text(limit: int) -> Parse:
    def parse(value: str) -> str:
        if len(value) > limit:
            raise ValueError(f"longer than {limit} characters")
        return value
    return parse


def integer(lo: int, hi: int) -> Parse:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise ValueError("expected a whole number") from None
        if not lo <= number <= hi:
            raise ValueError(f"expected {lo}..{hi}")
        return number
    return parse


def decimal(lo: float, hi: float) -> Parse:
    def parse(value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            raise ValueError("expected a decimal number") from None
        if not lo <= number <= hi:
            raise ValueError(f"expected {lo}..{hi}")
        return number
    return parse


def choice(*options: str) -> Parse:
    def parse(value: str) -> str:
        if value not in options:
            raise ValueError(f"expected one of {', '.join(options)}")
        return value
    return parse


def boolean(value: str) -> bool:
    lowered = value.lower()
    if lowered in ("1", "true", "yes"):
        return True
    if lowered in ("0", "false", "no"):
        return False
    raise ValueError("expected true or false")


def district(value: str) -> str:
    if not re.fullmatch(r"[0-9]{6}", value):
        raise ValueError("expected a GB/T 2260 district code: six ASCII digits 0-9")
    return value


def barcode(value: str) -> str:
    if not re.fullmatch(r"[0-9]{8}|[0-9]{12,14}", value):
        raise ValueError("expected a GTIN/UPC of 8, 12, 13 or 14 digits")
    if not gtin_check_digit_ok(value):
        raise ValueError("GTIN check digit does not match (a mistyped barcode would never match a recall)")
    return value


def mobile(value: str) -> str:
    return to_e164(value, mobile_only=True)


def phone(value: str) -> str:
    return to_e164(value, mobile_only=False)


LANGUAGES = choice(*(lang.value for lang in Language))


@dataclass(frozen=True)
class Column:
    name: str
    parse: Parse
    required: bool = True
    ref: str | None = None  # file whose ids must contain this value


@dataclass(frozen=True)
class FileSpec:
    file: str
    table: Table
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ("id",)
    defaults: dict[str, object] = field(default_factory=dict)


SPECS: tuple[FileSpec, ...] = (
    FileSpec("schools.csv", School.__table__, (
        Column("id", ident), Column("name", text(200)), Column("kind", text(32), required=False),
        Column("district_code", district), Column("lat", decimal(-90, 90), required=False),
        Column("lon", decimal(-180, 180), required=False)), defaults={"kind": "primary"}),
    FileSpec("agencies.csv", Agency.__table__, (
        Column("id", ident), Column("kind", choice(*(k.value for k in AgencyKind))),
        Column("district_code", district), Column("name", text(200)),
        Column("supervisor_id", ident, required=False, ref="agencies.csv"))),
    FileSpec("duty_officers.csv", DutyOfficer.__table__, (
        Column("id", ident), Column("agency_id", ident, ref="agencies.csv"), Column("name", text(100)),
        Column("phone", mobile), Column("contact_order", integer(0, 99), required=False),
        Column("active", boolean, required=False)), defaults={"contact_order": 0, "active": True}),
    FileSpec("classes.csv", SchoolClass.__table__, (
        Column("id", ident), Column("school_id", ident, ref="schools.csv"), Column("name", text(100)),
        Column("grade", integer(0, 13), required=False))),
    FileSpec("children.csv", Child.__table__, (
        Column("id", ident), Column("school_id", ident, ref="schools.csv"),
        Column("class_id", ident, ref="classes.csv"))),
    FileSpec("guardians.csv", Guardian.__table__, (
        Column("id", ident), Column("phone", mobile), Column("language", LANGUAGES, required=False)),
        defaults={"language": "zh-CN"}),
    FileSpec("child_guardians.csv", ChildGuardian.__table__, (
        Column("child_id", ident, ref="children.csv"), Column("guardian_id", ident, ref="guardians.csv"),
        Column("contact_order", integer(0, 9))), key=("child_id", "contact_order")),
    FileSpec("school_contacts.csv", SchoolContact.__table__, (
        Column("id", ident), Column("school_id", ident, ref="schools.csv"), Column("role", text(32)),
        Column("phone", mobile), Column("language", LANGUAGES, required=False),
        Column("contact_order", integer(0, 99), required=False)), defaults={"language": "zh-CN", "contact_order": 0}),
    FileSpec("opt_outs.csv", OptOut.__table__, (
        Column("phone", phone), Column("source", text(32), required=False)), key=("phone",),
        defaults={"source": "import"}),
    FileSpec("product_registrations.csv", ProductRegistration.__table__, (
        Column("id", ident), Column("holder_kind", choice("school", "guardian")), Column("holder_id", ident),
        Column("product_kind", choice(*(k.value for k in ProductKind))),
        Column("product_name", text(200), required=False),
        Column("brand", text(100), required=False), Column("model", text(100), required=False),
        Column("batch", text(100), required=False), Column("barcode", barcode, required=False))),
)
BY_FILE = {spec.file: spec for spec in SPECS}
ID_COLUMN = {spec.file: spec.table.c[spec.key[0]] for spec in SPECS}
