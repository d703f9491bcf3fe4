"""`childsafe up [--workers dispatch=2,…]`: run every worker under the supervisor until SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading

from ops.cli import subcommand
from ops.errors import ChildSafeOpsError
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from ops.logs import configure
    from ops.supervisor import Supervisor, parse_counts, plan

    configure(logging.INFO, settings.log_format)
    try:
        counts = parse_counts(args.workers)
    except ValueError as exc:
        raise ChildSafeOpsError(str(exc)) from exc
    log_dir = settings.run_dir / "logs"
    supervisor = Supervisor(plan(settings, counts, log_dir), base_s=args.backoff, cap_s=args.backoff_cap)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    logging.getLogger("childsafe.supervisor").info(
        "starting %s; logs in %s", ", ".join(c.name for c in supervisor.children), log_dir)
    supervisor.run(stop)
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("up", help="run every worker on this machine; restart a dead one with backoff")
    p.add_argument("--workers", default="", help="instances per kind, e.g. dispatch=2,streams=2 (default 1 each)")
    p.add_argument("--backoff", type=float, default=1.0, help="first restart delay, seconds (doubles)")
    p.add_argument("--backoff-cap", type=float, default=30.0, help="longest restart delay, seconds")
    p.set_defaults(handler=_run)
