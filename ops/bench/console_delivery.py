"""How long the alert page's delivery counts take (they are polled every 2 s while an alert goes out) with a
big SMS ledger: ``python -m ops.bench.console_delivery --db-url URL [--other-rows N] [--thread-rows M]``.

Fills a migrated database with ``N`` ledger rows of other alerts and ``M`` of one CAP thread (in chunks of
1,000 recipients, as the streams agent requests them), then times ``console.delivery.delivery`` and
``timeline`` (median of 5)."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from console.delivery import delivery, timeline
from consumers.store.db import make_engine
from consumers.store.migrate import upgrade
from consumers.store.sms_ledger import SmsAlert, SmsLedgerEntry
from contracts.cap.sms import cap_alert_id

ROOT = "bench-sender,bench-thread"


def fill(engine, other_rows: int, thread_rows: int) -> None:
    now = datetime.now(UTC)
    states = ("accepted", "accepted", "accepted", "refused", "skipped")
    alerts, rows = [], []
    for n in range(other_rows + thread_rows):
        mine = n >= other_rows
        alert_id = cap_alert_id(ROOT, "bench-thread", (n - other_rows) // 1000) if mine else f"other:{n // 1000}"
        if not alerts or alerts[-1]["alert_id"] != alert_id:
            alerts.append(dict(alert_id=alert_id, request_json="{}", requires_ack=False, fanout_done=True,
                               jobs_emitted=1000, created_at=now))
        state = states[n % len(states)]
        rows.append(dict(dedup_key=f"{alert_id}|g:{n}", alert_id=alert_id, recipient_id=f"g:{n}", marker=f"b{n}",
                         phone=f"+86199{n:08d}", state=state, provider_status="delivered" if state == "accepted" else None,
                         sid=f"SMB{n}" if state == "accepted" else None, error_code=21211 if state == "refused" else None,
                         attempts=1, job_json="{}", created_at=float(n % 600), updated_at=float(n % 600 + 5),
                         fallback_pending=False))
    with engine.begin() as conn:
        conn.execute(insert(SmsAlert), alerts)
        for i in range(0, len(rows), 20_000):
            conn.execute(insert(SmsLedgerEntry), rows[i:i + 20_000])


def timed(fn) -> float:
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--db-url", required=True, help="an empty database (migrated here)")
    p.add_argument("--other-rows", type=int, default=200_000)
    p.add_argument("--thread-rows", type=int, default=10_000)
    args = p.parse_args()
    upgrade(args.db_url)
    engine = make_engine(args.db_url)
    fill(engine, args.other_rows, args.thread_rows)
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("ANALYZE")
    counts = delivery(engine, ROOT, "zh-CN")
    assert counts.recipients == args.thread_rows, counts
    print(json.dumps({"other_rows": args.other_rows, "thread_rows": args.thread_rows,
                      "dialect": engine.dialect.name, "delivery_s": round(timed(lambda: delivery(engine, ROOT, "en")), 4),
                      "timeline_s": round(timed(lambda: timeline(engine, ROOT)), 4)}))


if __name__ == "__main__":
    main()
