"""Throwaway databases for tests."""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

_template: Path | None = None


def migrated_template() -> Path:
    """A SQLite database migrated to the head revisions, once per process: copy it (``sqlite_copy``), never write it."""
    global _template
    if _template is None:
        from consumers.store.migrate import upgrade

        directory = Path(tempfile.mkdtemp(prefix="childsafe-migrated-"))
        atexit.register(shutil.rmtree, directory, True)
        upgrade(f"sqlite:///{directory / 'template.db'}")
        _template = directory / "template.db"
    return _template


def sqlite_copy(template: Path, path: Path) -> str:
    """A copy of a migrated SQLite database at ``path`` (SQLite's backup API: consistent even in WAL mode); its URL."""
    with sqlite3.connect(template) as source, sqlite3.connect(path) as target:
        source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{path}"


def fresh_postgres_database(server_url: str) -> str:
    """Create an empty, migrated database on the test PostgreSQL server and return its URL."""
    from consumers.store.migrate import upgrade

    name = f"t{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    return url


@contextmanager
def migrated_sqlite(directory: Path) -> Iterator[Engine]:
    """A fresh, migrated SQLite database in ``directory`` (a copy of ``migrated_template``), as an engine disposed
    on exit."""
    from consumers.store.db import make_engine

    engine = make_engine(sqlite_copy(migrated_template(), directory / "childsafe.db"))
    try:
        yield engine
    finally:
        engine.dispose()
