"""Imports every model module so Base.metadata is complete (Alembic and tests read it)."""

from consumers.store import core  # noqa: F401
