"""`childsafe worker`: the Faust streams worker (triage agent + HTTP intake)."""

from __future__ import annotations

from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from faust.worker import Worker

    from ops.bootstrap import streams_app
    from ops.topics_admin import apply_topics

    apply_topics(settings.bootstrap_servers, settings.topic_namespace)
    app = streams_app(settings)
    worker = Worker(app, loglevel=args.loglevel, quiet=True)
    worker.execute_from_commandline()  # returns only when the worker stops
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("worker", help="run the streams worker: triage agent and HTTP intake")
    p.add_argument("--loglevel", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=_run)
