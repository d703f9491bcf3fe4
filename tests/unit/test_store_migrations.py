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

    import console.emergency_threads  # noqa: F401  (console tables share the metadata)
    import console.guardians  # noqa: F401
    import console.recalls  # noqa: F401
    import console.submissions  # noqa: F401
    import consumers.store.models  # noqa: F401
    from consumers.store.db import Base

    engine = make_engine(db_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == []


def test_a_database_migrated_under_the_old_wire_label_upgrades_unchanged(tmp_path):
    """The SMS cancellations branch was labelled `wire`; a database stores revision ids, not labels, so one that was
    upgraded before the rename (alembic_version holds `wire_0001`) upgrades to every head with nothing to do."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text

    from consumers.store.migrate import alembic_config

    url = f"sqlite:///{tmp_path / 'before-rename.db'}"
    upgrade(url, "wire_0001")  # what `childsafe db upgrade` left in a database of the `wire` days
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == ["wire_0001"]
    upgrade(url)
    with engine.connect() as conn:
        versions = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    script = ScriptDirectory.from_config(alembic_config(url))
    assert versions == set(script.get_heads())
    assert script.get_revision("cancellations@head").revision == "wire_0001"
    labels = {label for rev in script.walk_revisions() for label in rev.branch_labels}
    assert "cancellations" in labels and "wire" not in labels
