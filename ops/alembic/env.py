"""Alembic environment: runs online against the URL the caller set; no create_all anywhere."""

from alembic import context
from sqlalchemy import engine_from_config, pool

import consumers.store.models  # noqa: F401  (imports every model module so metadata is complete)
from consumers.store.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connectable = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                     poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
