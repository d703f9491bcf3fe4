"""The database: one SQLAlchemy metadata, engines built only by the composition root."""
