"""Insert-or-update many rows in chunks, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

CHUNK = 5000


def upsert(conn: Connection, table: Table, rows: Iterable[dict], key: Sequence[str]) -> int:
    """Write ``rows``: a row whose key exists is updated. Returns how many rows were written."""
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    written = 0
    chunk: list[dict] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            written += _write(conn, dialect, table, chunk, key)
            chunk = []
    if chunk:
        written += _write(conn, dialect, table, chunk, key)
    return written


def _write(conn: Connection, dialect, table: Table, chunk: list[dict], key: Sequence[str]) -> int:
    derive = table.info.get("derive")  # columns computed from the row (product_registrations' match keys)
    if derive is not None:
        chunk = [{**row, **derive(row)} for row in chunk]
    stmt = dialect.insert(table)
    others = [c for c in chunk[0] if c not in key]
    if others:
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_={c: stmt.excluded[c] for c in others})
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
    conn.execute(stmt, chunk)
    return len(chunk)
