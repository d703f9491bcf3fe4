"""`childsafe audit verify`: walk the case audit trail's hash chain and name every edited or deleted record."""

from __future__ import annotations

from consumers.cases.audit import verify
from consumers.store.db import make_engine, session_factory
from ops.cli import print_json, subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    engine = make_engine(settings.db_url())
    try:
        with session_factory(engine)() as session:
            verdict = verify(session)
    finally:
        engine.dispose()
    print_json({"ok": verdict.ok, "checked": verdict.checked, "head_hash": verdict.head_hash,
                "problems": verdict.problems})
    return 0 if verdict.ok else 1


@subcommand
def register(subs) -> None:
    p = subs.add_parser("audit", help="verify the hash-chained case audit trail")
    p.add_argument("action", choices=["verify"])
    p.set_defaults(handler=_run)
