"""`childsafe tokens create|list|revoke`: desk access tokens (shown once, stored hashed, expiring, audited)."""

from __future__ import annotations

from datetime import timedelta

from consumers.cases.access import Role
from ops.cli import print_json, subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from consumers.cases.errors import InvalidCaseInput
    from consumers.cases.tokens import issue_token, list_tokens, revoke_token
    from consumers.store.db import session_factory, transaction
    from contracts.clock import SystemClock
    from contracts.errors import FieldError
    from ops.bootstrap import build_engine

    engine = build_engine(settings)
    now = SystemClock().now()
    try:
        with transaction(session_factory(engine)) as session:
            if args.action == "create":
                if not (args.role and args.unit):
                    raise InvalidCaseInput([FieldError("role" if not args.role else "unit", "required to create")])
                days = args.days if args.days is not None else settings.case_token_days
                token_id, token = issue_token(session, args.role, args.unit, now, label=args.label,
                                              lifetime=timedelta(days=days))
                out: dict | list = {"token_id": token_id, "role": args.role, "unit": args.unit, "token": token,
                       "expires_at": (now + timedelta(days=days)).isoformat(),
                       "note": "shown once; only its hash is stored"}
            elif args.action == "list":
                out = list_tokens(session, now)
            else:
                if not args.token_id:
                    raise InvalidCaseInput([FieldError("token_id", "required: an id from `childsafe tokens list`")])
                out = revoke_token(session, args.token_id, now, args.reason)
    finally:
        engine.dispose()
    print_json(out)
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("tokens", help="desk access tokens: create, list, revoke (all audited)")
    p.add_argument("action", choices=["create", "list", "revoke"])
    p.add_argument("token_id", nargs="?", default="", help="revoke: the token's id (from `tokens list`)")
    p.add_argument("--role", choices=[r.value for r in Role], help="create: the holder's role")
    p.add_argument("--unit", help="create: agency id (officer roles) or school id (school_officer)")
    p.add_argument("--label", default="", help="create: who holds it, e.g. 'Test District duty desk'")
    p.add_argument("--days", type=float, default=None,
                   help="create: lifetime in days (default CHILDSAFE_CASE_TOKEN_DAYS, 90)")
    p.add_argument("--reason", default="", help="revoke: why (stored only as a digest in the audit trail)")
    p.set_defaults(handler=_run)
