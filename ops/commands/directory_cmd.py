"""`childsafe directory import|generate|publish`: load the alert directory from CSV, or make a fictional city,
and publish its reference topics (holdings, school coordinates) for the streams layer."""

from __future__ import annotations

import time
from pathlib import Path

from ops.cli import print_json, subcommand
from ops.settings import Settings


def _published(args, settings: Settings, result: dict) -> tuple[dict, int]:
    from ops.bootstrap import publish_reference_topics

    if not args.publish:
        return {**result, "reference_topics": "not published (--no-publish): run `childsafe directory publish`"}, 0
    published = publish_reference_topics(settings)
    return {**result, "reference_topics": published}, 0 if published["published"] else 1


def _import(args, settings: Settings) -> int:
    from consumers.directory.csv_import import ALL_OR_NOTHING, GOOD_ROWS, import_directory
    from ops.bootstrap import build_engine

    mode = GOOD_ROWS if args.good_rows else ALL_OR_NOTHING
    report = import_directory(build_engine(settings), [Path(p) for p in args.paths], mode)
    out, code = _published(args, settings, report.as_dict())
    print_json(out)
    return 1 if report.problems else code


def _generate(args, settings: Settings) -> int:
    from consumers.directory.bulk_load import load_generated
    from consumers.directory.generator import write_csv
    from ops.bootstrap import build_engine

    started = time.perf_counter()
    if args.out:
        counts = write_csv(Path(args.out), args.schools, args.guardians, args.seed)
    else:
        counts = load_generated(build_engine(settings), args.schools, args.guardians, args.seed)
    result = {"rows": counts.files, "seconds": round(time.perf_counter() - started, 2), "into": args.out or "database"}
    code = 0
    if not args.out:
        result, code = _published(args, settings, result)
    print_json(result)
    return code


def _publish(args, settings: Settings) -> int:
    from ops.bootstrap import publish_reference_topics

    result = publish_reference_topics(settings)
    print_json(result)
    return 0 if result["published"] else 1


@subcommand
def register(subs) -> None:
    p = subs.add_parser("directory", help="load or generate the alert directory (schools, classes, guardians, …)")
    actions = p.add_subparsers(dest="action", required=True)
    publish_help = ("after writing the database, publish holdings and school coordinates to Kafka "
                    "(default; --no-publish to skip, then run `childsafe directory publish`)")
    imp = actions.add_parser("import", help="import CSV files (or folders of them); bad rows reported by line",
                             description="Default: a file set with any bad row imports nothing (all-or-nothing). "
                                         "--good-rows writes the good rows and reports the bad ones.")
    imp.add_argument("paths", nargs="+")
    imp.add_argument("--good-rows", action="store_true", help="write the good rows, report the bad ones")
    imp.add_argument("--publish", action="store_true", default=True, help=publish_help)
    imp.add_argument("--no-publish", dest="publish", action="store_false")
    imp.set_defaults(handler=_import)
    gen = actions.add_parser("generate", help="a fictional city directory (+86 199… numbers: sandbox only)")
    gen.add_argument("--schools", type=int, default=1000)
    gen.add_argument("--guardians", type=int, default=500_000)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--out", default=None, help="write CSV files here instead of loading the database")
    gen.add_argument("--publish", action="store_true", default=True, help=publish_help + " (database mode)")
    gen.add_argument("--no-publish", dest="publish", action="store_false")
    gen.set_defaults(handler=_generate)
    pub = actions.add_parser("publish", help="publish registrations.holdings.v1 and directory.schools.v1 from the "
                                             "database (full state; safe to repeat)")
    pub.set_defaults(handler=_publish)
