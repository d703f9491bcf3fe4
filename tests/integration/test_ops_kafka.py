"""Operations against the real broker: topic provisioning, the local Kafka lifecycle, the send CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from contracts.codec import decode
from contracts.events import IncidentReportedEvent
from contracts.topics import CATALOGUE, INCIDENTS, STREAMS_INTERNAL
from ops.kafka_local import LocalKafka, free_port
from ops.topics_admin import apply_topics
from tests.factories import incident
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration


def test_topics_apply_creates_then_reports_unchanged(kafka_bootstrap, namespace):
    first = apply_topics(kafka_bootstrap, namespace)
    assert sorted(first.created) == sorted(s.name(namespace) for s in CATALOGUE + STREAMS_INTERNAL) and not first.drift
    second = apply_topics(kafka_bootstrap, namespace)
    assert second.created == [] and second.drift == [] and len(second.unchanged) == len(CATALOGUE + STREAMS_INTERNAL)


def test_topics_apply_reports_drift(kafka_bootstrap, namespace):
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    admin.create_topics([NewTopic(INCIDENTS.name(namespace), 2, 1, topic_configs={"retention.ms": "1000"})])
    deadline = time.monotonic() + 30
    while INCIDENTS.name(namespace) not in admin.list_topics() and time.monotonic() < deadline:
        time.sleep(0.1)
    admin.close()
    report = apply_topics(kafka_bootstrap, namespace)
    [drift] = report.drift
    assert drift.startswith(INCIDENTS.name(namespace))
    assert "partitions 2 != 6" in drift and "retention.ms 1000" in drift


def test_local_kafka_restarts_cleanly_and_keeps_its_data(tmp_path):
    broker = LocalKafka(run_dir=tmp_path / "k", port=free_port(), controller_port=free_port())
    try:
        assert broker.up(timeout=90) > 0
        assert broker.up() == 0.0, "a second up reuses the running broker"
        apply_topics(broker.bootstrap, "keep")
        assert broker.status()["answers"]
        assert broker.down() is True
        assert broker.status() == {**broker.status(), "pid": None, "answers": False}
        broker.up(timeout=90)
        assert not apply_topics(broker.bootstrap, "keep").created, "topics survive a restart"
    finally:
        broker.down()
    assert broker.down() is False


def test_kafka_python_uses_the_native_crc32c():
    from kafka.record import util

    assert util.crc32c_c is not None and util._crc32c is util.crc32c_c


def test_send_cli_validates_then_produces(kafka_bootstrap, namespace, tmp_path):
    apply_topics(kafka_bootstrap, namespace)
    env = {**os.environ, "CHILDSAFE_BOOTSTRAP_SERVERS": kafka_bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": namespace}
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps(incident(), ensure_ascii=False))
    bad.write_text(json.dumps(incident(severity="apocalyptic"), ensure_ascii=False))

    def send(path, key):
        return subprocess.run([sys.executable, "-m", "ops", "send", "incident", str(path), "--kafka",
                               "--idempotency-key", key], env=env, capture_output=True, text=True, timeout=60)

    refused = send(bad, "cli-bad")
    assert refused.returncode == 2 and "data.severity" in refused.stdout
    sent = send(good, f"cli-{uuid.uuid4().hex[:6]}")
    assert sent.returncode == 0, sent.stderr
    accepted = json.loads(sent.stdout)
    records = read_topic(kafka_bootstrap, INCIDENTS.name(namespace), until=lambda rs: len(rs) >= 1)
    assert [decode(r.value, IncidentReportedEvent).id for r in records] == [accepted["id"]]
