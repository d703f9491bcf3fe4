"""The case consumer on the real broker and database: one case per report, dead letters, alert requests."""

from __future__ import annotations

import base64
import json
import threading
import time

import pytest
from kafka import KafkaConsumer
from sqlalchemy import func, select

from consumers.cases.models import MandatoryReportCase
from consumers.cases.tracking import OutboxMessage, ProcessedMessage
from consumers.store.db import make_engine, session_factory, transaction
from contracts.codec import decode
from contracts.topics import ALERTS_REQUESTED, CASE_COMMANDS, DEADLETTER
from ops.bootstrap import run_case_consumer
from ops.identity import field_keyring
from ops.settings import Settings
from ops.topics_admin import apply_topics
from tests.cases_fixtures import REPORTER_NAME, REPORTER_PHONE, SUMMARY, command_bytes, open_case, seed_organisations
from tests.integration.helpers import producer as checked_producer
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture()
def sqlite_url(tmp_path):
    from consumers.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'cases.db'}"
    upgrade(url)
    return url


def _seed(url: str):
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        seed_organisations(s)
    return engine


def _produce(bootstrap: str, namespace: str, payloads: list[tuple[bytes, bytes]]) -> None:
    producer = checked_producer(bootstrap)
    for key, value in payloads:
        producer.send(CASE_COMMANDS.name(namespace), key=key, value=value)
    producer.flush()
    producer.close()


def _read_all(bootstrap: str, topic: str, expect: int, timeout: float = 20.0) -> list:
    consumer = KafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=1000)
    out, deadline = [], time.monotonic() + timeout
    while len(out) < expect and time.monotonic() < deadline:
        out.extend(r for recs in consumer.poll(timeout_ms=500).values() for r in recs)
    consumer.close()
    return out


def test_same_open_case_three_times_opens_one_case_and_one_alert(kafka_bootstrap, namespace, sqlite_url):
    apply_topics(kafka_bootstrap, namespace)
    engine = _seed(sqlite_url)
    cmd = open_case(1)
    bad = b'{"specversion": "1.0", "type": "cn.childsafe.case.open.v1", "data": {"case_id": ""}}'
    _produce(kafka_bootstrap, namespace, [(b"case-000001", command_bytes(cmd, f"evt-{i}")) for i in range(3)]
             + [(b"junk", bad)])
    settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=sqlite_url)
    stop = threading.Event()
    worker = threading.Thread(target=run_case_consumer, args=(settings, stop), daemon=True)
    worker.start()
    try:
        count = lambda sql: session_factory(engine)().execute(sql).scalar_one()  # noqa: E731
        wait_for(lambda: count(select(func.count()).select_from(ProcessedMessage)) == 4
              and count(select(func.count()).select_from(OutboxMessage)
                        .where(OutboxMessage.published_at.is_(None))) == 0)
    finally:
        stop.set()
        worker.join(20)
    with session_factory(engine)() as s:
        assert s.execute(select(func.count()).select_from(MandatoryReportCase)).scalar_one() == 1
        outcomes = sorted(s.execute(select(ProcessedMessage.outcome)).scalars())
        assert outcomes == ["deadlettered", "duplicate", "duplicate", "opened"]
        assert s.get(MandatoryReportCase, "case-000001").state == "forwarded"
    alerts = _read_all(kafka_bootstrap, ALERTS_REQUESTED.name(namespace), expect=1)
    assert len(alerts) == 1
    alert = decode(alerts[0].value, ALERTS_REQUESTED).data
    assert alert.kind == "mandatory_report_duty" and alert.priority == "emergency"
    assert alert.audience.kind == "agency_duty_officers" and alert.audience.district_code == "310115"
    assert set(alert.audience.agencies) >= {"public_security", "civil_affairs", "education", "womens_federation"}
    for secret in (REPORTER_NAME, REPORTER_PHONE, SUMMARY):
        assert secret.encode() not in alerts[0].value and secret not in json.dumps(alert.params)
    letters = _read_all(kafka_bootstrap, DEADLETTER.name(namespace), expect=1)
    assert len(letters) == 1
    letter = decode(letters[0].value, DEADLETTER).data
    assert letter.value_b64 == "" and letter.value_sealed is not None  # the worker seals what it rejects
    assert letter.original(field_keyring(settings)) == bad
    assert letter.source_topic == CASE_COMMANDS.name(namespace) and base64.b64decode(letter.key_b64) == b"junk"
    assert any(p.field.startswith("data.") or p.field in ("id", "source", "time") for p in letter.errors)
    engine.dispose()
