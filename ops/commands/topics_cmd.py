"""`childsafe topics apply`: create or check the catalogue's topics."""

from __future__ import annotations

from ops.cli import print_json, subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    from ops.topics_admin import apply_topics

    report = apply_topics(settings.bootstrap_servers, settings.topic_namespace)
    print_json(report.as_dict())
    return 1 if report.drift else 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("topics", help="create or check the topics in the catalogue")
    p.add_argument("action", choices=["apply"])
    p.set_defaults(handler=_run)
