"""`childsafe deadletter list|show|replay`: read the dead-letter topic; re-send what now passes (ops/deadletters.py)."""

from __future__ import annotations

import getpass

from ops.cli import print_json, subcommand
from ops.errors import ChildSafeOpsError
from ops.settings import Settings


def _letters(args, settings: Settings):
    from ops.deadletters import read_letters

    letters = read_letters(settings.bootstrap_servers, settings.topic_namespace)
    if getattr(args, "source", None):
        letters = [x for x in letters if x.record.source_topic.endswith("." + args.source)]
    return letters


def _list(args, settings: Settings) -> int:
    letters = _letters(args, settings)
    print_json({"count": len(letters), "dead_letters": [x.summary() for x in letters[-args.limit:]]})
    return 0


def _operator_role(settings: Settings, operator: str) -> str:
    """The name an operator token stands for; refuses (audited by the caller) any other token or none."""
    from consumers.cases.access import Role
    from consumers.cases.tokens import authenticate
    from consumers.store.db import session_factory
    from contracts.clock import SystemClock
    from ops.bootstrap import build_engine

    engine = build_engine(settings)
    try:
        with session_factory(engine)() as session:
            principal = authenticate(session, settings.case_token.get_secret_value() or None, SystemClock().now())
    finally:
        engine.dispose()
    if principal.role is not Role.OPERATOR:
        raise ChildSafeOpsError(f"--reveal needs an operator token; {principal.role.value} is not one")
    return f"{operator} ({principal.actor})"


def _show(args, settings: Settings) -> int:
    """Masked by default; ``--reveal`` needs an operator token in CHILDSAFE_CASE_TOKEN. Audited either way."""
    from contracts.clock import SystemClock
    from ops.deadletters import audit_show, show
    from ops.identity import field_keyring

    found = [x for x in _letters(args, settings) if x.position == args.position]
    if not found:
        raise ChildSafeOpsError(f"no dead letter at {args.position} (expected <partition>:<offset> from "
                                "`childsafe deadletter list`)")
    operator = args.operator or getpass.getuser()
    if args.reveal:
        try:
            operator = _operator_role(settings, operator)
        except Exception as exc:
            audit_show(settings.bootstrap_servers, settings.topic_namespace, SystemClock(), operator, found[0],
                       "refused")
            raise ChildSafeOpsError(f"not revealed: {exc}") from None
    audit_show(settings.bootstrap_servers, settings.topic_namespace, SystemClock(), operator, found[0],
               "revealed" if args.reveal else "masked")
    print_json(show(found[0], field_keyring(settings), reveal=args.reveal))
    return 0


def _replay(args, settings: Settings) -> int:
    from collections import Counter

    from consumers.store.db import session_factory
    from consumers.store.migrate import upgrade
    from ops.bootstrap import build_deadletter_replayer, build_engine

    letters = _letters(args, settings)
    if args.position:
        letters = [x for x in letters if x.position in set(args.position)]
    upgrade(settings.db_url())
    engine = build_engine(settings)
    try:
        replayer = build_deadletter_replayer(settings, session_factory(engine), args.operator or getpass.getuser())
        results = replayer.replay(letters, dry_run=args.dry_run)
    finally:
        engine.dispose()
    print_json({"summary": dict(Counter(r["result"] for r in results)), "results": results})
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("deadletter", help="list, show and replay dead letters")
    actions = p.add_subparsers(dest="action", required=True)
    lister = actions.add_parser("list", help="dead letters, oldest first (positions are <partition>:<offset>)")
    lister.add_argument("--limit", type=int, default=50)
    lister.set_defaults(handler=_list)
    shower = actions.add_parser("show", help="one dead letter with its reasons and original message")
    shower.add_argument("position")
    shower.add_argument("--reveal", action="store_true",
                        help="show the original unmasked (needs an operator token in CHILDSAFE_CASE_TOKEN)")
    shower.add_argument("--operator", default="", help="who looks (audit record; default: login name)")
    shower.set_defaults(handler=_show)
    replay = actions.add_parser("replay", help="re-send the dead letters that now pass their topic's contract")
    replay.add_argument("position", nargs="*", help="only these (default: all)")
    replay.add_argument("--dry-run", action="store_true", help="say what would be re-sent, send nothing")
    replay.add_argument("--operator", default="", help="who replays (audit record; default: login name)")
    replay.set_defaults(handler=_replay)
    for a in (lister, shower, replay):
        a.add_argument("--source", default="", help="only dead letters from this topic suffix, e.g. incidents.reported.v1")
