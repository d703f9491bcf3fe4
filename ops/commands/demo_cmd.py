"""`childsafe demo`: the local stack with a realistic scenario (what `make demo` runs)."""

from __future__ import annotations

from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from ops.demo import run_demo

    return run_demo(settings)


@subcommand
def register(subs) -> None:
    p = subs.add_parser("demo", help="start Kafka and the workers, push a scenario, show where each report went")
    p.set_defaults(handler=_run)
