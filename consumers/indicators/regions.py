"""Loading the areas and their child population (the denominators) from a CSV the statistics bureau's figures
are copied into: ``code,name,level,parent_code,children,children_year,source``. Upserts by code."""

from __future__ import annotations

import csv
import io
import re

from sqlalchemy.orm import Session

from consumers.indicators.models import Region
from contracts.errors import ContractError, FieldError

COLUMNS = ("code", "name", "level", "parent_code", "children", "children_year", "source")
CODE = re.compile(r"[0-9]{6}")
LEVELS = {"province": "0000", "city": "00"}


def parse_regions(text: str) -> list[Region]:
    """Every row checked before anything is stored; errors name the line and the field."""
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ContractError([FieldError("header", f"columns {','.join(COLUMNS)}", ",".join(reader.fieldnames or ()))])
    out, errors = [], []
    for n, row in enumerate(reader, start=2):
        code, level, parent = row["code"] or "", row["level"] or "", row["parent_code"] or ""
        if not CODE.fullmatch(code):
            errors.append(FieldError(f"line {n}: code", "a 6-digit GB/T 2260 code", code[:20]))
        if level not in ("province", "city", "district"):
            errors.append(FieldError(f"line {n}: level", "province, city or district", level[:20]))
        elif level in LEVELS and not code.endswith(LEVELS[level]):
            errors.append(FieldError(f"line {n}: code", f"a {level} code ends in {LEVELS[level]}", code[:20]))
        if level != "province" and not CODE.fullmatch(parent):
            errors.append(FieldError(f"line {n}: parent_code", "the 6-digit code of the area above", parent[:20]))
        if not (row["name"] or "").strip() or len(row["name"]) > 100:
            errors.append(FieldError(f"line {n}: name", "1-100 characters", (row["name"] or "")[:20]))
        children = _whole(row["children"], f"line {n}: children", errors)
        year = _whole(row["children_year"], f"line {n}: children_year", errors)
        if level != "district" and children is not None:
            errors.append(FieldError(f"line {n}: children", "only districts carry a population (areas above add up)",
                                     row["children"]))
        out.append(Region(code=code, name=(row["name"] or "").strip(), level=level, parent_code=parent or None,
                          children=children, children_year=year, source=(row["source"] or None)))
    if errors:
        raise ContractError(errors[:20])
    return out


def _whole(value: str | None, name: str, errors: list[FieldError]) -> int | None:
    if value in (None, ""):
        return None
    if not re.fullmatch(r"[0-9]{1,9}", value):
        errors.append(FieldError(name, "a whole number (ASCII digits)", value[:20]))
        return None
    return int(value)


def load_regions(session: Session, regions: list[Region]) -> int:
    for region in regions:
        session.merge(region)
    return len(regions)
