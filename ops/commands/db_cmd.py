"""`childsafe db upgrade|current`: apply the Alembic migrations (every branch) to the configured database."""

from __future__ import annotations

from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from alembic import command

    from consumers.store.migrate import alembic_config, upgrade

    url = settings.db_url()
    if args.action == "upgrade":
        upgrade(url)
        print(f"database at {url.split('@')[-1]} is at the newest revision of every branch")
    else:
        command.current(alembic_config(url), verbose=False)
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("db", help="apply or show the database migrations")
    p.add_argument("action", choices=["upgrade", "current"])
    p.set_defaults(handler=_run)
