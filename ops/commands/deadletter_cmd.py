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


def _show(args, settings: Settings) -> int:
    from ops.deadletters import show

    found = [x for x in _letters(args, settings) if x.position == args.position]
    if not found:
        raise ChildSafeOpsError(f"no dead letter at {args.position} (expected <partition>:<offset> from "
                                "`childsafe deadletter list`)")
    print_json(show(found[0]))
    return 0


def _replay(args, settings: Settings) -> int:
    from collections import Counter

    from consumers.store.db import make_engine, session_factory
    from consumers.store.migrate import upgrade
    from contracts.clock import SystemClock
    from ops.deadletters import DeadLetterReplayer

    letters = _letters(args, settings)
    if args.position:
        letters = [x for x in letters if x.position in set(args.position)]
    upgrade(settings.db_url())
    engine = make_engine(settings.db_url())
    try:
        replayer = DeadLetterReplayer(settings.bootstrap_servers, settings.topic_namespace, session_factory(engine),
                                      SystemClock(), operator=args.operator or getpass.getuser())
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
    shower.set_defaults(handler=_show)
    replay = actions.add_parser("replay", help="re-send the dead letters that now pass their topic's contract")
    replay.add_argument("position", nargs="*", help="only these (default: all)")
    replay.add_argument("--dry-run", action="store_true", help="say what would be re-sent, send nothing")
    replay.add_argument("--operator", default="", help="who replays (audit record; default: login name)")
    replay.set_defaults(handler=_replay)
    for a in (lister, shower, replay):
        a.add_argument("--source", default="", help="only dead letters from this topic suffix, e.g. incidents.reported.v1")
