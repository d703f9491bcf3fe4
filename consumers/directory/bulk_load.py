"""Load a generated directory straight into the database, skipping CSV (fast path for benchmarks)."""

from __future__ import annotations

from sqlalchemy import Engine

from consumers.directory.columns import BY_FILE
from consumers.directory.generator import CLASS_SIZE, GeneratedCounts, generate_rows
from consumers.directory.upsert import upsert

ORDER = ("agencies.csv", "duty_officers.csv", "schools.csv", "school_contacts.csv", "classes.csv", "children.csv",
         "guardians.csv", "child_guardians.csv", "product_registrations.csv")
BATCH = 20_000


def load_generated(engine: Engine, schools: int, guardians: int, seed: int = 7) -> GeneratedCounts:
    """Rows are buffered per table and flushed in dependency order, so foreign keys always hold."""
    counts = GeneratedCounts()
    buffers: dict[str, list[dict]] = {name: [] for name in ORDER}
    with engine.begin() as conn:
        for name, row in generate_rows(schools, guardians, seed):
            buffers[name].append(_typed(name, row))
            counts.add(name)
            if len(buffers[name]) >= BATCH:
                _flush(conn, buffers)
        _flush(conn, buffers)
    return counts


def _flush(conn, buffers: dict[str, list[dict]]) -> None:
    for name in ORDER:
        if buffers[name]:
            spec = BY_FILE[name]
            rows = buffers[name]
            if name == "child_guardians.csv":
                rows = [dict(r, school_id=r["child_id"].split("-S")[0], class_id=_class_of(r["child_id"]))
                        for r in rows]
            upsert(conn, spec.table, rows, spec.key)
            buffers[name] = []


def _class_of(child_id: str) -> str:
    school, number = child_id.split("-S")
    return f"{school}-K{int(number) // CLASS_SIZE:03d}"


def _typed(name: str, row: dict) -> dict:
    spec = BY_FILE[name]
    out = {}
    for column in spec.columns:
        value = row.get(column.name)
        if value in ("", None):
            out[column.name] = None
        elif column.name in ("phone",):
            out[column.name] = value  # generated numbers are already E.164 from the documented block
        else:
            out[column.name] = column.parse(str(value))
    return out
