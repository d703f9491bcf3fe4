"""`childsafe intake token`: issue an intake token (its routes and the sender it may post as); shown once, stored hashed."""

from __future__ import annotations

from datetime import timedelta

from contracts.clock import SystemClock
from contracts.errors import ContractError
from ops.cli import print_json, subcommand
from ops.errors import ChildSafeOpsError
from ops.settings import Settings


def _token(args, settings: Settings) -> int:
    from ops.bootstrap import build_intake_token_book

    now = SystemClock().now()
    expires = now + timedelta(days=args.days) if args.days else None
    try:
        token, clear = build_intake_token_book(settings).issue(
            [r.strip() for r in args.routes.split(",") if r.strip()], args.sender_kind, args.sender_id, now,
            label=args.label, expires_at=expires)
    except ContractError as exc:
        raise ChildSafeOpsError(f"intake token not issued: {exc}") from None
    print_json({"token_id": token.id, "routes": list(token.routes), "sender": token.source, "token": clear,
                "expires_at": token.expires_at, "file": str(settings.intake_tokens_path()),
                "note": "shown once; only its hash is stored; workers pick it up without a restart"})
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("intake", help="HTTP intake administration: issue intake tokens")
    p.add_argument("action", choices=["token"])
    p.add_argument("--routes", required=True, help="comma-separated: incidents, safety-reports, recalls, emergency-alerts")
    p.add_argument("--sender-kind", required=True, choices=["school", "regulator", "cap", "console"],
                   help="who sends (console: the web console, for its signed-in officers' schools)")
    p.add_argument("--sender-id", required=True, help="the school id, regulator id or CAP sender it posts as "
                   "(console: a name for the console instance)")
    p.add_argument("--days", type=float, default=365, help="valid for this many days (0 = no expiry)")
    p.add_argument("--label", default="", help="who holds it, e.g. 'Test School safety office'")
    p.set_defaults(handler=_token)
