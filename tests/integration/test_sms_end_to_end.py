"""End to end on the real broker, the real database and the real twilio SDK against the local sandbox."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select

from consumers.directory.bulk_load import load_generated
from consumers.kafka_io import AcknowledgedProducer
from consumers.store.db import make_engine
from consumers.store.directory import ChildGuardian, Guardian
from contracts.codec import decode
from contracts.topics import ALERTS_REQUESTED, DEADLETTER
from ops.bootstrap import build_dispatch, build_fanout, build_webhooks
from ops.kafka_local import free_port
from ops.topics_admin import apply_topics
from tests.integration.helpers import publish, settings_for
from tests.sms_servers import BackgroundApp, alert_event

pytestmark = pytest.mark.integration


def test_an_alert_to_a_school_of_2000_guardians_sends_exactly_2000_messages(
        kafka_bootstrap, namespace, tmp_path, sms_sandbox):
    db_url = f"sqlite:///{tmp_path / 'sms.db'}"
    from consumers.store.migrate import upgrade

    upgrade(db_url)
    engine = make_engine(db_url)
    load_generated(engine, schools=2, guardians=4000)  # SCH00000 and SCH00001: 2,000 guardians each
    with engine.connect() as conn:
        school = set(conn.execute(select(Guardian.phone).join(ChildGuardian, ChildGuardian.guardian_id == Guardian.id)
                                  .where(ChildGuardian.school_id == "SCH00000")).scalars())
    assert len(school) == 2000
    apply_topics(kafka_bootstrap, namespace)
    port = free_port()
    settings = settings_for(kafka_bootstrap, namespace, db_url, sms_sandbox, callback_base=f"http://127.0.0.1:{port}")
    hooks = BackgroundApp(build_webhooks(settings).app(), port).start()
    publish(kafka_bootstrap, namespace, alert_event("E2E-1", "SCH00000"), alert_event("E2E-1", "SCH00000"))
    fanout, dispatch = build_fanout(settings, threading.Event()), build_dispatch(settings, threading.Event())
    try:
        deadline = time.monotonic() + 120
        while len(fanout.results) < 2 and time.monotonic() < deadline:
            fanout.poll_once()
        assert [r.emitted for r in fanout.results] == [2000, 0]  # the repeated request is recognised
        while time.monotonic() < deadline and dispatch.dispatcher.ledger.counts().get("accepted", 0) < 2000:
            dispatch.poll_once()
        for _ in range(10):
            dispatch.poll_once(timeout_ms=100)
    finally:
        dispatch.close()  # also leaves the cancellations group, so later tests' dispatchers are not held up
        fanout.consumer.close()
    messages = sms_sandbox.messages()
    assert len(messages) == 2000
    assert {m["to"] for m in messages} == school
    from consumers.store.sms_ledger import SmsLedgerEntry

    deadline = time.monotonic() + 30  # the sandbox's signed status callbacks reach the webhook server
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            statuses = set(conn.execute(select(SmsLedgerEntry.provider_status)).scalars())
        if statuses == {"delivered"}:
            break
        time.sleep(0.2)
    hooks.stop()
    assert statuses == {"delivered"}


def test_unsupported_and_invalid_alerts_are_dead_lettered_with_a_reason(kafka_bootstrap, namespace, tmp_path,
                                                                         sms_sandbox):
    from kafka import KafkaConsumer

    from consumers.store.migrate import upgrade
    from contracts.alert_request import AlertRequested
    from contracts.events import AlertRequestedEvent

    db_url = f"sqlite:///{tmp_path / 'sms.db'}"
    upgrade(db_url)
    apply_topics(kafka_bootstrap, namespace)
    settings = settings_for(kafka_bootstrap, namespace, db_url, sms_sandbox)
    recall = AlertRequested(alert_id="R1", kind="recall", priority="urgent", source_event_id="r", reason="recall",
                            audience={"kind": "product_holders", "recall_number": "SAMR-2026-001"},
                            params={"product": "p", "hazard": "h", "recall_number": "SAMR-2026-001"})
    publish(kafka_bootstrap, namespace, AlertRequestedEvent.new(recall, source="/tests"))
    producer = AcknowledgedProducer(kafka_bootstrap, "tests")
    producer.send(ALERTS_REQUESTED.name(namespace), None, b'{"type": "cn.childsafe.alert.requested.v1"}')
    producer.flush()
    fanout = build_fanout(settings, threading.Event())
    handled = 0
    deadline = time.monotonic() + 60
    while handled < 2 and time.monotonic() < deadline:
        handled += fanout.poll_once()
    fanout.consumer.close()
    reader = KafkaConsumer(DEADLETTER.name(namespace), bootstrap_servers=kafka_bootstrap,
                           auto_offset_reset="earliest", consumer_timeout_ms=5000)
    reasons = [decode(r.value, DEADLETTER).data.reason for r in reader]
    assert any("product_holders" in r and "recall matching" in r for r in reasons)
    assert any(r.startswith("not a valid alert request") for r in reasons)
    assert sms_sandbox.messages() == []
