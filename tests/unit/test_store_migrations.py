"""The schema comes from the migrations, on SQLite and on PostgreSQL alike."""

from sqlalchemy import inspect

from consumers.store.db import make_engine
from consumers.store.migrate import downgrade, upgrade


def test_migrations_create_core_tables_and_roll_back(db_url):
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"schools", "agencies", "duty_officers", "alembic_version"} <= tables
    downgrade(db_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(db_url)
    assert "schools" in inspect(engine).get_table_names()
    engine.dispose()


def test_models_match_migrations(db_url):
    """A model changed without a migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import console.submissions  # noqa: F401  (console tables share the metadata)
    import console.emergency_threads  # noqa: F401
    import consumers.store.models  # noqa: F401
    from consumers.store.db import Base

    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []
