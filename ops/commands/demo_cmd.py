"""`childsafe demo`: the local stack with a realistic scenario (what `make demo` runs)."""

from __future__ import annotations

from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from ops.demo import run_demo

    return run_demo(settings, serve=not args.no_serve)


@subcommand
def register(subs) -> None:
    p = subs.add_parser("demo", help="start Kafka and the workers, push a scenario, show where each report went")
    p.add_argument("--no-serve", action="store_true",
                   help="non-interactive: run the scenario, print the outcome and stop (default: keep serving the "
                        "console until interrupted)")
    p.set_defaults(handler=_run)
