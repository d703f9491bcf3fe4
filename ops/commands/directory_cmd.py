"""`childsafe directory import|generate`: load the alert directory from CSV, or make a fictional city."""

from __future__ import annotations

import time
from pathlib import Path

from consumers.directory.bulk_load import load_generated
from consumers.directory.csv_import import ALL_OR_NOTHING, GOOD_ROWS, import_directory
from consumers.directory.generator import write_csv
from consumers.store.db import make_engine
from ops.cli import print_json, subcommand
from ops.settings import Settings


def _import(args, settings: Settings) -> int:
    mode = GOOD_ROWS if args.good_rows else ALL_OR_NOTHING
    report = import_directory(make_engine(settings.db_url()), [Path(p) for p in args.paths], mode)
    print_json(report.as_dict())
    return 1 if report.problems else 0


def _generate(args, settings: Settings) -> int:
    started = time.perf_counter()
    if args.out:
        counts = write_csv(Path(args.out), args.schools, args.guardians, args.seed)
    else:
        counts = load_generated(make_engine(settings.db_url()), args.schools, args.guardians, args.seed)
    print_json({"rows": counts.files, "seconds": round(time.perf_counter() - started, 2),
                "into": args.out or "database"})
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("directory", help="load or generate the alert directory (schools, classes, guardians, …)")
    actions = p.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="import CSV files (or folders of them); bad rows reported by line",
                             description="Default: a file set with any bad row imports nothing (all-or-nothing). "
                                         "--good-rows writes the good rows and reports the bad ones.")
    imp.add_argument("paths", nargs="+")
    imp.add_argument("--good-rows", action="store_true", help="write the good rows, report the bad ones")
    imp.set_defaults(handler=_import)
    gen = actions.add_parser("generate", help="a fictional city directory (+86 199… numbers: sandbox only)")
    gen.add_argument("--schools", type=int, default=1000)
    gen.add_argument("--guardians", type=int, default=500_000)
    gen.add_argument("--seed", type=int, default=7)
    gen.add_argument("--out", default=None, help="write CSV files here instead of loading the database")
    gen.set_defaults(handler=_generate)
