"""`childsafe tokens create`: issue an access token for the case desk (shown once; stored hashed)."""

from __future__ import annotations

from consumers.cases.access import Role
from consumers.cases.tokens import issue_token
from consumers.store.db import make_engine, session_factory, transaction
from contracts.clock import SystemClock
from ops.cli import print_json, subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    engine = make_engine(settings.db_url())
    try:
        with transaction(session_factory(engine)) as session:
            token_id, token = issue_token(session, args.role, args.unit, SystemClock().now(), label=args.label)
    finally:
        engine.dispose()
    print_json({"token_id": token_id, "role": args.role, "unit": args.unit, "token": token,
                "note": "shown once; only its hash is stored"})
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("tokens", help="issue access tokens for the case desk")
    p.add_argument("action", choices=["create"])
    p.add_argument("--role", required=True, choices=[r.value for r in Role])
    p.add_argument("--unit", required=True, help="agency id (officer roles) or school id (school_officer)")
    p.add_argument("--label", default="", help="who holds it, e.g. 'Test District duty desk'")
    p.set_defaults(handler=_run)
