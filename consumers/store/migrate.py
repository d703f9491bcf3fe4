"""Run the Alembic migrations programmatically (`childsafe db upgrade` and the tests use this)."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config

from consumers.store.db import ensure_sqlite_dir


def alembic_config(url: str) -> Config:
    script_location = str(resources.files("ops").joinpath("alembic"))
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
