"""`childsafe exporter`: serves consumer lag and the case store's gauges on /metrics (docs/operations.md)."""

from __future__ import annotations

from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from ops.commands.cases_cmd import _stop_on_signals
    from ops.metrics import serve_exporter

    serve_exporter(settings, _stop_on_signals(settings))
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("exporter", help="serve consumer lag and case-store metrics for Prometheus")
    p.set_defaults(handler=_run)
