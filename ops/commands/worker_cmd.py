"""`childsafe worker`: the Faust streams worker (triage agent + HTTP intake)."""

from __future__ import annotations

import logging

from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from faust.worker import Worker

    from ops.bootstrap import build_streams, intake_may_run_open
    from ops.logs import dict_config
    from ops.metrics import serve
    from ops.topics_admin import apply_topics

    intake_may_run_open(settings)  # refuses to start an open intake on a non-loopback address, or without tokens
    apply_topics(settings.bootstrap_servers, settings.topic_namespace)
    (settings.run_dir / "streams").mkdir(parents=True, exist_ok=True)
    app = build_streams(settings).app
    level = getattr(logging, (args.loglevel or settings.log_level).upper())
    worker = Worker(app, loglevel=level, quiet=True, logging_config=dict_config(level, settings.log_format))
    serve("streams", settings.streams_metrics_port, settings.metrics_host)  # not on the intake port
    worker.spinner = None  # the terminal spinner logs every record at DEBUG: costly and noisy in log files
    for noisy in ("aiokafka", "faust", "mode", "kafka"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    worker.execute_from_commandline()  # returns only when the worker stops
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("worker", help="run the streams worker: triage agent and HTTP intake")
    p.add_argument("--loglevel", default=None, choices=["debug", "info", "warning", "error"])
    p.set_defaults(handler=_run)
