"""`childsafe indicators record` (the indicator recorder) and `childsafe indicators regions FILE` (areas and their
child population, the denominators of every rate)."""

from __future__ import annotations

import threading
from pathlib import Path

from ops.cli import print_json, subcommand
from ops.settings import Settings


def run_indicator_recorder(settings: Settings, stop: threading.Event) -> None:
    """Record incident, drill and recall facts until `stop` is set (tests run it in a thread)."""
    from kafka import KafkaConsumer

    from consumers.indicators.recorder import IndicatorRecorder, topics
    from consumers.store.db import make_engine, session_factory

    engine = make_engine(settings.db_url())
    kafka = KafkaConsumer(*topics(settings.topic_namespace), bootstrap_servers=settings.bootstrap_servers,
                          group_id=f"{settings.topic_namespace}.indicators", enable_auto_commit=False,
                          auto_offset_reset="earliest", client_id="childsafe-indicators")
    try:
        IndicatorRecorder(kafka, session_factory(engine), settings.topic_namespace).run(stop)
    finally:
        engine.dispose()


def _record(args, settings: Settings) -> int:
    from ops.commands.cases_cmd import _stop_on_signals

    run_indicator_recorder(settings, _stop_on_signals(settings))
    return 0


def _regions(args, settings: Settings) -> int:
    from consumers.indicators.regions import load_regions, parse_regions
    from consumers.store.db import make_engine, session_factory, transaction

    regions = parse_regions(Path(args.file).read_text(encoding="utf-8-sig"))
    engine = make_engine(settings.db_url())
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
