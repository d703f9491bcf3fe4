"""Crash safety on the real broker: a consumer killed mid-batch (SIGKILL) and restarted opens every case once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlalchemy import func, select

from consumers.cases.models import MandatoryReportCase
from consumers.cases.opening import Position
from consumers.cases.tracking import OutboxMessage, ProcessedMessage
from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.migrate import upgrade
from contracts.codec import decode
from contracts.topics import ALERTS_REQUESTED, CASE_COMMANDS
from ops.bootstrap import build_case_consumer, build_case_publisher, build_case_runtime
from ops.settings import Settings
from ops.topics_admin import apply_topics
from tests.cases_fixtures import command_bytes, open_case, seed_organisations
from tests.integration.helpers import producer as checked_producer
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration
CHILDSAFE = str(Path(sys.executable).with_name("childsafe"))


def _prepare(tmp_path, bootstrap, namespace, n: int):
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        seed_organisations(s)
    apply_topics(bootstrap, namespace)
    producer = checked_producer(bootstrap, linger_ms=20)
    for i in range(1, n + 1):
        cmd = open_case(i, risk="high" if i % 3 == 0 else "normal")
        producer.send(CASE_COMMANDS.name(namespace), key=cmd.case_id.encode(), value=command_bytes(cmd))
    for _ in (1, 2, 3):  # the same report sent again
        producer.send(CASE_COMMANDS.name(namespace), key=b"case-000001", value=command_bytes(open_case(1)))
    producer.flush()
    producer.close()
    return url, engine


def _count(engine, model, *where) -> int:
    with session_factory(engine)() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


def _spawn(url, bootstrap, namespace) -> subprocess.Popen:
    env = {**os.environ, "CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": namespace,
           "CHILDSAFE_DATABASE_URL": url, "CHILDSAFE_CASE_BATCH": "25",
           "CHILDSAFE_CASE_SESSION_TIMEOUT_MS": "6000"}
    return subprocess.Popen([CHILDSAFE, "cases", "consume"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def test_sigkill_mid_batch_then_restart_opens_every_case_exactly_once(tmp_path, kafka_bootstrap, namespace):
    n = 1500
    url, engine = _prepare(tmp_path, kafka_bootstrap, namespace, n)
    kills = []
    for threshold in (150, 600):  # killed twice, at different points
        proc = _spawn(url, kafka_bootstrap, namespace)
        try:
            wait_for(lambda threshold=threshold: _count(engine, MandatoryReportCase) >= threshold, timeout=90)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        kills.append(_count(engine, MandatoryReportCase))
    assert kills[0] < n and kills[1] < n, "killed before the end of the topic"
    proc = _spawn(url, kafka_bootstrap, namespace)
    try:
        wait_for(lambda: _count(engine, ProcessedMessage) == n + 3
                  and _count(engine, OutboxMessage, OutboxMessage.published_at.is_(None)) == 0, timeout=120, every=0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    with session_factory(engine)() as s:
        report_ids = s.execute(select(MandatoryReportCase.report_id)).scalars().all()
        outcomes = dict(s.execute(select(ProcessedMessage.outcome, func.count()).group_by(ProcessedMessage.outcome)).all())
        duty = s.execute(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.purpose == "duty")).scalar_one()
        states = set(s.execute(select(MandatoryReportCase.state)).scalars())
    assert sorted(report_ids) == [f"report-{i:06d}" for i in range(1, n + 1)]  # every case, exactly once
    assert outcomes == {"opened": n, "duplicate": 3}
    assert duty == n and states == {"forwarded"}
    alert_ids = _alert_ids(kafka_bootstrap, ALERTS_REQUESTED.name(namespace), n)
    assert alert_ids == {f"case-duty:case-{i:06d}" for i in range(1, n + 1)}  # at least once each, same ids on replay
    engine.dispose()


def _alert_ids(bootstrap: str, topic: str, expect: int) -> set[str]:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
    ids: set[str] = set()
    deadline = time.monotonic() + 30
    while len(ids) < expect and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            ids.update(decode(r.value, ALERTS_REQUESTED).data.alert_id for r in records)
    consumer.close()
    return ids


def test_crash_after_db_commit_before_offset_commit_replays_harmlessly(tmp_path, kafka_bootstrap, namespace):
    """The precise window: effects committed, offsets not; the next member of the group re-reads and skips."""
    url, engine = _prepare(tmp_path, kafka_bootstrap, namespace, 40)
    settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=url, case_batch=500)
    runtime = build_case_runtime(settings)
    publisher = build_case_publisher(settings)
    first = build_case_consumer(settings, runtime, publisher, threading.Event())
    positions: list[Position] = []
    deadline = time.monotonic() + 30
    while len(positions) < 43 and time.monotonic() < deadline:
        batch = first.kafka.poll(timeout_ms=500)
        positions += [Position(r.topic, r.partition, r.offset, r.key, r.value) for rs in batch.values() for r in rs]
    first.store(positions)  # the DB commit happens ...
    first.kafka.close(autocommit=False)  # ... and the process "dies" before committing offsets
    second = build_case_consumer(settings, runtime, publisher, threading.Event())
    seen: Counter = Counter()
    deadline = time.monotonic() + 30
    while sum(seen.values()) < 43 and time.monotonic() < deadline:
        seen.update(second.poll_once().outcomes)
    second.kafka.close(autocommit=False)
    publisher.close()
    assert seen == {"replayed": 43}
    assert _count(engine, MandatoryReportCase) == 40
    runtime.engine.dispose()
    engine.dispose()
