"""Benchmark: the province's indicator pages over a generated province on PostgreSQL — each page's queries
(`consumers/indicators/queries.py`, the whole province counted and suppressed at once) beside the plain SQL
count each of them is built from.

    .venv/bin/python ops/bench/indicators.py [--registrations 1000000] [--incidents 100000] [--server URL]

The province (all fictional): 10 cities × 10 districts with child populations, a school per 500 children,
`--registrations` children each with a guardian, a child-guardian registration and a product registration,
`--incidents` incident facts over the 12 months of 2026 (a fifth of them mandatory cases with forward and
acknowledge clocks), two drills per school, 200 recalls, and an SMS ledger of one message per two registrations.
Rows are made by the server itself (INSERT … SELECT over generate_series; foreign-key triggers off while
loading, the rows being consistent by construction): no row crosses the wire.
The server: --server, else CHILDSAFE_TEST_POSTGRES_URL, else a throwaway local PostgreSQL; the database is new
and dropped after. Exits 1 if any page takes --limit-s (1 s) or more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import create_engine, event, text

from consumers.indicators.queries import (
    case_counts,
    drills_done,
    drills_overdue,
    incident_counts,
    indicator_page,
    parse_month,
    recall_regions,
    sms_counts,
)
from consumers.store.db import make_engine, session_factory
from consumers.store.migrate import upgrade

NOW = datetime(2026, 12, 15, 4, 0, tzinfo=UTC)
MONTH = "2026-06"
PAGES = (("province 140000", "140000"), ("city 140100", "140100"), ("district 140101", "140101"))
CATEGORIES = ["traffic", "drowning", "fall", "burn_scald", "food_poisoning", "poisoning_other", "bullying",
              "abuse_harm", "sexual_assault", "missing_child", "self_harm", "facility_hazard", "other"]


def generate(url: str, registrations: int, incidents: int) -> dict[str, float]:
    """Fill the database; returns seconds per table."""
    schools = max(registrations // 500, 100)
    cats = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    district = "'14' || lpad((1 + ({i} / 10) % 10)::text, 2, '0') || lpad((1 + {i} % 10)::text, 2, '0')"
    steps = [
        ("regions", "INSERT INTO regions (code, name, level) VALUES ('140000', '基准省', 'province')"),
        ("regions", "INSERT INTO regions (code, name, level, parent_code) SELECT '14' || lpad(c::text, 2, '0') || '00',"
                    " '基准市' || c, 'city', '140000' FROM generate_series(1, 10) c"),
        ("regions", "INSERT INTO regions (code, name, level, parent_code, children, children_year, source) "
                    f"SELECT {district.format(i='d')}, '基准区' || d, 'district', "
                    "'14' || lpad((1 + (d / 10) % 10)::text, 2, '0') || '00', "
                    f"{registrations // 100} + d * 37, 2025, 'generated' FROM generate_series(0, 99) d"),
        ("agencies", f"INSERT INTO agencies (id, kind, district_code, name) SELECT 'ps-' || {district.format(i='d')}, "
                     "'public_security', " + district.format(i="d") + ", '基准公安' || d FROM generate_series(0, 99) d"),
        ("duty_officers", "INSERT INTO duty_officers (id, agency_id, name, phone, contact_order, active) "
                          f"SELECT 'do-' || d, 'ps-' || {district.format(i='d')}, '值班' || d, '+8619900' || "
                          "lpad(d::text, 6, '0'), 0, true FROM generate_series(0, 99) d"),
        ("schools", f"INSERT INTO schools (id, name, kind, district_code) SELECT 'S' || s, '基准学校' || s, 'primary', "
                    f"{district.format(i='s')} FROM generate_series(0, {schools - 1}) s"),
        ("classes", f"INSERT INTO classes (id, school_id, name) SELECT 'S' || s || '-c', 'S' || s, '一班' "
                    f"FROM generate_series(0, {schools - 1}) s"),
        ("children", f"INSERT INTO children (id, school_id, class_id) SELECT 'K' || k, 'S' || (k % {schools}), "
                     f"'S' || (k % {schools}) || '-c' FROM generate_series(0, {registrations - 1}) k"),
        ("guardians", "INSERT INTO guardians (id, phone, language) SELECT 'G' || k, '+861990' || lpad(k::text, 7, '0'),"
                      f" 'zh-CN' FROM generate_series(0, {registrations - 1}) k"),
        ("child_guardians", "INSERT INTO child_guardians (child_id, contact_order, guardian_id, school_id, class_id) "
                            f"SELECT 'K' || k, 0, 'G' || k, 'S' || (k % {schools}), 'S' || (k % {schools}) || '-c' "
                            f"FROM generate_series(0, {registrations - 1}) k"),
        ("product_registrations", "INSERT INTO product_registrations (id, holder_kind, holder_id, product_kind, brand, "
                                  "model, barcode) SELECT 'R' || k, 'guardian', 'G' || k, 'toy', '基准牌' || (k % 300), "
                                  f"'M' || (k % 5000), NULL FROM generate_series(0, {registrations - 1}) k"),
        ("indicator_incidents", "INSERT INTO indicator_incidents (event_id, school_id, district_code, category, month, "
                                f"occurred_at, children) SELECT 'E' || i, 'S' || (i % {schools}), "
                                f"{district.format(i=f'(i % {schools})')}, ({cats})[1 + (i * 7) % {len(CATEGORIES)}], "
                                "to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), t, 1 + (i % 6) FROM "
                                f"(SELECT i, timestamptz '2026-01-01 00:00+08' + (i % 365) * interval '1 day' + "
                                f"(i % 1440) * interval '1 minute' AS t FROM generate_series(0, {incidents - 1}) i) x"),
        ("cases", "INSERT INTO cases (case_id, report_id, school_id, district_code, category, severity, risk, "
                  "situations, triggers, children, summary, state, occurred_at, reported_at, opened_at, updated_at) "
                  "SELECT 'C' || event_id, event_id, school_id, district_code, category, 'serious', 'high', '[4]', "
                  "'[]', '[]', 'generated', 'acknowledged', occurred_at, occurred_at + interval '5 minutes', "
                  "occurred_at + interval '5 minutes', occurred_at FROM indicator_incidents WHERE "
                  "category IN ('bullying', 'abuse_harm', 'sexual_assault', 'missing_child', 'self_harm')"),
        ("case_deadlines", "INSERT INTO case_deadlines (case_id, duty, agency_id, due_at, met_at, breached_at, "
                           "escalation_level, next_escalation_at) SELECT case_id, d.duty, 'ps-' || district_code, "
                           "reported_at + d.due, reported_at + d.due * ((abs(hashtext(case_id || d.duty)) % 15) / 10.0),"
                           " CASE WHEN abs(hashtext(case_id || d.duty)) % 15 > 10 THEN reported_at + d.due END, "
                           "CASE WHEN abs(hashtext(case_id || d.duty)) % 15 > 10 THEN 1 ELSE 0 END, NULL "
                           "FROM cases, (VALUES ('forward', interval '15 minutes'), ('acknowledge', interval '75 minutes'),"
                           " ('acknowledge', interval '80 minutes')) AS d(duty, due)"),
        ("indicator_drills", "INSERT INTO indicator_drills (event_id, school_id, district_code, drill_kind, held_on, "
                             f"month) SELECT 'D' || n, 'S' || (n % {schools}), {district.format(i=f'(n % {schools})')},"
                             " CASE WHEN n % 3 = 0 THEN 'fire' ELSE 'evacuation' END, h, to_char(h, 'YYYY-MM') FROM "
                             "(SELECT n, date '2025-06-01' + (n * 13) % 540 AS h FROM "
                             f"generate_series(0, {2 * schools - 1}) n) x"),
        ("indicator_recalls", "INSERT INTO indicator_recalls (recall_number, region_code, month, published_on) "
                              "SELECT 'SAMR-B-' || r, CASE WHEN r % 4 = 0 THEN '140000' ELSE "
                              f"{district.format(i='r')} END, to_char(p, 'YYYY-MM'), p FROM "
                              "(SELECT r, date '2026-01-01' + (r * 5) % 365 AS p FROM generate_series(0, 199) r) x"),
        # the recipient's district as the dispatcher writes it (consumers.directory.districts: the guardian's first
        # school's); every 1,000th recipient is not in the directory (district unknown: NULL)
        ("sms_ledger", "INSERT INTO sms_ledger (dedup_key, alert_id, recipient_id, marker, phone, state, "
                       "provider_status, attempts, fallback_pending, job_json, created_at, updated_at, district_code) "
                       "SELECT a || '|g:G' || k, a, 'g:G' || k, 'm' || k, '+8619900000000', CASE WHEN k % 20 = 0 "
                       "THEN 'skipped' ELSE 'accepted' END, CASE WHEN k % 10 < 8 THEN 'delivered' ELSE 'undelivered' "
                       "END, 1, false, '{}', e, e, CASE WHEN k % 1000 = 1 THEN NULL ELSE "
                       f"{district.format(i=f'(k % {schools})')} END FROM "
                       "(SELECT k, CASE WHEN k % 5 = 0 THEN 'recall:SAMR-B-' || (k % 200) || ':0:p0:e' ELSE "
                       "'alert-' || (k % 1000) END AS a, extract(epoch FROM timestamptz '2026-01-01 00:00+08' + "
                       "(k % 365) * interval '1 day') AS e FROM generate_series(0, "
                       f"{registrations - 1}, 2) k) x"),
    ]
    took: dict[str, float] = {}
    engine = create_engine(url)
    with engine.begin() as conn:
        # generated rows are consistent by construction: skip the per-row foreign-key triggers while loading
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        began = time.perf_counter()
        for n, (table, sql) in enumerate(steps, start=1):
            t0 = time.perf_counter()
            progress(f"[{n}/{len(steps)}] {table} …")
            conn.execute(text(sql))
            took[table] = took.get(table, 0.0) + time.perf_counter() - t0
            progress(f"[{n}/{len(steps)}] {table} {time.perf_counter() - t0:.1f} s "
                     f"({time.perf_counter() - began:.0f} s so far)")
        progress("committing …")
    t0 = time.perf_counter()
    progress("VACUUM ANALYZE …")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))  # as autovacuum would have, in time: index-only scans need it
    took["vacuum analyze"] = time.perf_counter() - t0
    progress(f"VACUUM ANALYZE {took['vacuum analyze']:.1f} s")
    engine.dispose()
    return took


def progress(message: str) -> None:
    """Generating a full-size province takes minutes: say where it is (stderr, so stdout stays the tables)."""
    print(f"{time.strftime('%H:%M:%S')} {message}", file=sys.stderr, flush=True)


def timed(work, rounds: int) -> float:
    """Median seconds of `rounds` runs after one warm-up."""
    work()
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(url: str, rounds: int) -> tuple[dict[str, float], list[tuple[str, float, str, float]]]:
    factory = session_factory(make_engine(url))
    start, end = parse_month(MONTH)
    pages, parts = {}, []
    with factory() as s:
        for label, area in PAGES:
            progress(f"timing page {label} …")
            pages[label] = timed(lambda area=area: indicator_page(s, area, MONTH, NOW), rounds)
        like = "14%"
        plain = {
            "incidents": "SELECT count(*) FROM indicator_incidents WHERE month = :m AND district_code LIKE '14%'",
            "cases": "SELECT count(*) FROM cases WHERE reported_at >= :a AND reported_at < :b",
            "drills": "SELECT count(*) FROM indicator_drills WHERE month = :m",
            "schools": "SELECT count(*) FROM schools WHERE district_code LIKE '14%'",
            "recalls": "SELECT count(*) FROM indicator_recalls WHERE month = :m",
            "sms": "SELECT count(*) FROM sms_ledger WHERE created_at >= :ea AND created_at < :eb",
        }
        args = {"m": MONTH, "a": start, "b": end, "ea": start.timestamp(), "eb": end.timestamp()}
        queries = [
            ("incidents by district × category", lambda: incident_counts(s, like, MONTH), "incidents"),
            ("mandatory cases and their clocks", lambda: case_counts(s, like, start, end, NOW), "cases"),
            ("drills held", lambda: drills_done(s, like, MONTH), "drills"),
            ("schools overdue for a drill", lambda: drills_overdue(s, like, end.date(), 180), "schools"),
            ("recalls by area", lambda: recall_regions(s, MONTH), "recalls"),
            ("SMS and recall reach by recipient's district", lambda: sms_counts(s, like, start, end), "sms"),
        ]
        for name, work, key in queries:
            progress(f"timing query {name} …")
            parts.append((name, timed(work, rounds), plain[key],
                          timed(lambda key=key: s.execute(text(plain[key]), args).scalar(), rounds)))
    factory.kw["bind"].dispose()
    return pages, parts


def explain(url: str) -> None:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement each page sends, as it sent it (stderr)."""
    engine = make_engine(url)
    for label, area in PAGES:
        sent: list[tuple[str, Any]] = []

        def grab(conn, cursor, statement, parameters, context, executemany, sent=sent):
            sent.append((statement, parameters))
        event.listen(engine, "before_cursor_execute", grab)
        with session_factory(engine)() as s:
            indicator_page(s, area, MONTH, NOW)
        event.remove(engine, "before_cursor_execute", grab)
        with engine.connect() as conn:
            for statement, parameters in sent:
                plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters).scalars().all()
                print(f"--- {label}\n{statement}\n" + "\n".join(plan), file=sys.stderr, flush=True)
    engine.dispose()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registrations", type=int, default=1_000_000)
    ap.add_argument("--incidents", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--server", default=os.environ.get("CHILDSAFE_TEST_POSTGRES_URL"))
    ap.add_argument("--limit-s", type=float, default=1.0)
    ap.add_argument("--explain", action="store_true", help="print each page's statements' plans (stderr)")
    args = ap.parse_args()
    local = None
    server = args.server
    if not server:
        from ops.kafka_local import free_port
        from ops.pg_local import LocalPostgres

        local = LocalPostgres(port=free_port())
        server = local.start()
    name = f"bench_ind_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        took = generate(url, args.registrations, args.incidents)
        print(f"generated {args.registrations:,} registrations, {args.incidents:,} incidents in "
              f"{sum(took.values()):.1f} s ({', '.join(f'{k} {v:.1f}' for k, v in took.items())})")
        if args.explain:
            explain(url)
        pages, parts = measure(url, args.rounds)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
        if local is not None:
            local.stop()
    print(f"month {MONTH}, median of {args.rounds} warm runs")
    print("| page | time |\n|---|---|")
    for label, seconds in pages.items():
        print(f"| {label} | {seconds * 1000:.0f} ms |")
    print("| query (whole province) | time | plain SQL count it is built from | time |\n|---|---|---|---|")
    for name, seconds, plain, plain_s in parts:
        print(f"| {name} | {seconds * 1000:.1f} ms | `{plain}` | {plain_s * 1000:.1f} ms |")
    slow = {k: v for k, v in pages.items() if v >= args.limit_s}
    if slow:
        print(f"SLOW: {slow} (limit {args.limit_s} s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
