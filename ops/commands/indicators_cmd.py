"""`childsafe indicators record` (the indicator recorder) and `childsafe indicators regions FILE` (areas and their
child population, the denominators of every rate)."""

from __future__ import annotations

from pathlib import Path

from ops.cli import print_json, subcommand
from ops.settings import Settings


def _record(args, settings: Settings) -> int:
    from ops.bootstrap import run_indicator_recorder
    from ops.commands.cases_cmd import _stop_on_signals

    run_indicator_recorder(settings, _stop_on_signals(settings))
    return 0


def _regions(args, settings: Settings) -> int:
    from consumers.indicators.regions import load_regions, parse_regions
    from consumers.store.db import session_factory, transaction
    from ops.bootstrap import build_engine

    regions = parse_regions(Path(args.file).read_text(encoding="utf-8-sig"))
    engine = build_engine(settings)
    try:
        with transaction(session_factory(engine)) as session:
            print_json({"regions": load_regions(session, regions)})
    finally:
        engine.dispose()
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("indicators", help="the province's indicators (plan item 28)")
    sub = p.add_subparsers(dest="indicators_action", required=True)
    sub.add_parser("record", help="record incident, drill and recall facts from the topics").set_defaults(
        handler=_record)
    r = sub.add_parser("regions", help="load areas and child populations from a CSV "
                                       "(code,name,level,parent_code,children,children_year,source)")
    r.add_argument("file")
    r.set_defaults(handler=_regions)
