"""Benchmark: cases opened per second by the case consumer vs plain batched inserts into the same database.

    .venv/bin/python ops/bench/cases_open.py [--n 3000] [--batch 200] [--db-url URL] [--bootstrap HOST:PORT]

Without --bootstrap it starts a throwaway local Kafka; without --db-url it uses a fresh SQLite file.
The consumer's figure covers everything an opened case costs: decode, tracking row, case, reporter vault,
routing, clocks, case event, audit record, duty alert through the outbox to Kafka, forwarding, offset commit.
All organisations and reports are fictional.
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kafka import KafkaProducer
from sqlalchemy import func, insert, select

from consumers.cases.models import MandatoryReportCase
from consumers.cases.tracking import OutboxMessage, ProcessedMessage
from consumers.store.core import Agency
from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.migrate import upgrade
from contracts.cases import OpenCase
from contracts.events import OpenCaseCommand
from contracts.topics import CASE_COMMANDS
from ops.bootstrap import build_case_consumer, build_case_publisher, build_case_runtime
from ops.kafka_local import LocalKafka, free_port
from ops.settings import Settings
from ops.topics_admin import apply_topics

DISTRICT = "310115"
T0 = datetime(2026, 11, 29, 1, 0, tzinfo=UTC)


def _command(i: int) -> OpenCase:
    return OpenCase(case_id=f"bench-{i:07d}", report_id=f"bench-report-{i:07d}", school_id="sch-bench-001",
                    district_code=DISTRICT, category="abuse_harm", severity="serious",
                    risk="high" if i % 3 == 0 else "normal", situations=[4], triggers=["situation_4"],
                    agencies=["public_security"], occurred_at=T0 - timedelta(minutes=30), reported_at=T0,
                    summary="BENCH fictional report text", reporter={"role": "teacher", "unit_id": "sch-bench-001",
                                                                      "name": "Bench Reporter 0001"})


def _seed(url: str) -> None:
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        for kind in ("public_security", "civil_affairs", "education"):
            s.add(Agency(id=f"{kind}-{DISTRICT}", kind=kind, district_code=DISTRICT, name=f"Bench {kind}"))
    engine.dispose()


def bench_consumer(url: str, bootstrap: str, n: int, batch: int) -> float:
    namespace = f"bench{uuid.uuid4().hex[:8]}"
    apply_topics(bootstrap, namespace)
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20)
    for i in range(n):
        cmd = _command(i)
        producer.send(CASE_COMMANDS.name(namespace), key=cmd.case_id.encode(),
                      value=OpenCaseCommand.new(cmd, source="/bench").to_bytes())
    producer.flush()
    producer.close()
    settings = Settings(bootstrap_servers=bootstrap, topic_namespace=namespace, database_url=url, case_batch=batch)
    runtime = build_case_runtime(settings)
    publisher = build_case_publisher(settings)
    consumer = build_case_consumer(settings, runtime, publisher, threading.Event())
    consumer.poll_once(timeout_ms=100)  # join the group before timing
    with runtime.factory() as s:
        started_with = s.execute(select(func.count()).select_from(ProcessedMessage)).scalar_one()
    start, done = time.perf_counter(), started_with
    while done < n:
        done += consumer.poll_once(timeout_ms=200).outcomes.total()
    while consumer.relay.publish_pending():
        pass
    elapsed = time.perf_counter() - start
    with runtime.factory() as s:
        assert s.execute(select(func.count()).select_from(MandatoryReportCase)).scalar_one() == n
        assert s.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.published_at.is_(None))).scalar_one() == 0
    consumer.kafka.close(autocommit=False)
    publisher.close()
    runtime.engine.dispose()
    return (n - started_with) / elapsed


def bench_plain_inserts(url: str, n: int, batch: int) -> float:
    engine = make_engine(url)
    factory = session_factory(engine)
    rows = [{"case_id": f"plain-{i:07d}", "report_id": f"plain-report-{i:07d}", "school_id": "sch-bench-001",
             "district_code": DISTRICT, "category": "abuse_harm", "severity": "serious", "risk": "normal",
             "situations": [4], "triggers": ["situation_4"], "children": [], "summary": "BENCH fictional text",
             "state": "reported", "occurred_at": T0, "reported_at": T0, "opened_at": T0, "updated_at": T0}
            for i in range(n)]
    start = time.perf_counter()
    for i in range(0, n, batch):
        with transaction(factory) as s:
            s.execute(insert(MandatoryReportCase), rows[i:i + batch])
    elapsed = time.perf_counter() - start
    engine.dispose()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--db-url", default="")
    parser.add_argument("--bootstrap", default="")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="childsafe-bench-"))
    url = args.db_url or f"sqlite:///{work / 'bench.db'}"
    upgrade(url)
    _seed(url)
    broker = None
    if not args.bootstrap:
        broker = LocalKafka(run_dir=work / "kafka", port=free_port(), controller_port=free_port())
        broker.up(timeout=120)
    try:
        consumer_rate = bench_consumer(url, args.bootstrap or broker.bootstrap, args.n, args.batch)
        plain_rate = bench_plain_inserts(url, args.n, args.batch)
    finally:
        if broker is not None:
            broker.down()
    print(f"database: {url.split('://')[0]}   cases: {args.n}   batch: {args.batch}")
    print(f"case consumer (full effects) : {consumer_rate:10.0f} cases/s")
    print(f"plain batched inserts        : {plain_rate:10.0f} rows/s")
    print(f"ratio consumer / plain       : {consumer_rate / plain_rate:10.3f}")


if __name__ == "__main__":
    main()
