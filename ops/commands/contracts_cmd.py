"""`childsafe contracts export`: write the JSON Schemas of every contract into contracts/schemas/."""

from __future__ import annotations

from contracts.schemas import export
from ops.cli import subcommand
from ops.settings import Settings


def _run(args, settings: Settings) -> int:
    for path in export():
        print(path)
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("contracts", help="export the contracts' JSON Schemas")
    p.add_argument("action", choices=["export"])
    p.set_defaults(handler=_run)
