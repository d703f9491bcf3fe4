"""`childsafe deadletter replay` on the real broker: a report dead-lettered for a since-fixed reason (a raw
report over a body limit that was set too strict) is routed exactly once after replay, and still once after
a second replay; a message that still fails its contract is not re-sent; each replay leaves an audit record."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from contracts.codec import decode
from contracts.events import AuditRecordedEvent, DeadLetteredEvent
from contracts.topics import AUDIT, DEADLETTER, INCIDENTS
from ops.topics_admin import apply_topics
from tests.factories import incident_bytes
from tests.integration.helpers import StreamsWorker, producer, read_topic

pytestmark = pytest.mark.integration


def childsafe(env: dict, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "ops", *args], env={**os.environ, **env}, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return json.loads(out.stdout)


def audits_of(bootstrap, namespace, subject, action, settle=0.0, want=1):
    records = read_topic(bootstrap, AUDIT.name(namespace), settle=settle, timeout=60,
                         until=lambda rs: sum(r.key == subject.encode() for r in rs) >= want)
    found = [decode(r.value, AuditRecordedEvent) for r in records if r.key == subject.encode()]
    return [a for a in found if a.data.action == action]


def test_a_report_refused_by_a_too_strict_limit_is_routed_once_after_replay_even_replayed_twice(
        kafka_bootstrap, namespace, tmp_path):
    apply_topics(kafka_bootstrap, namespace)
    big = incident_bytes(id="dl-big-1", description="测试描述：课间一名学生跌倒。" * 60)  # ≈ 1.9 kB
    assert 1024 < len(big) < 256 * 1024
    p = producer(kafka_bootstrap)
    p.send(INCIDENTS.name(namespace), key=b"SCH-310115-0001", value=big).get(30)
    p.send(INCIDENTS.name(namespace), key=b"SCH-310115-0001", value=b'{"not": "a report"').get(30)
    p.send(INCIDENTS.name(namespace), key=b"SCH-310115-0001", value=incident_bytes(id="dl-small-1")).get(30)
    p.close()

    strict = StreamsWorker(kafka_bootstrap, namespace, tmp_path / "strict")
    strict.env["CHILDSAFE_MAX_BODY_BYTES"] = "1024"  # the misconfiguration
    strict.start()
    try:
        letters = read_topic(kafka_bootstrap, DEADLETTER.name(namespace), until=lambda rs: len(rs) >= 2)
        assert len(letters) == 2
        reasons = sorted(decode(r.value, DeadLetteredEvent).data.errors[0].reason[:8] for r in letters)
        assert reasons == ["at most ", "not vali"]
        assert audits_of(kafka_bootstrap, namespace, "dl-small-1", "triage_incident")
    finally:
        strict.stop()

    fixed = StreamsWorker(kafka_bootstrap, namespace, tmp_path / "fixed")  # the default limit again
    fixed.start()
    try:
        fixed.wait_http()
        env = {"CHILDSAFE_BOOTSTRAP_SERVERS": kafka_bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": namespace,
               "CHILDSAFE_DATABASE_URL": f"sqlite:///{tmp_path / 'ops.db'}"}
        listed = childsafe(env, "deadletter", "list")
        assert listed["count"] == 2
        dry = childsafe(env, "deadletter", "replay", "--dry-run")
        assert dry["summary"] == {"would_replay": 1, "still_invalid": 1}

        first = childsafe(env, "deadletter", "replay", "--operator", "test-operator")
        assert first["summary"] == {"replayed": 1, "still_invalid": 1}
        [invalid] = [r for r in first["results"] if r["result"] == "still_invalid"]
        assert invalid["errors"][0]["field"] == "(body)"
        routed = audits_of(kafka_bootstrap, namespace, "dl-big-1", "triage_incident", want=2)
        assert len(routed) == 1

        second = childsafe(env, "deadletter", "replay")
        assert second["summary"] == {"already_replayed": 1, "still_invalid": 1}
        routed = audits_of(kafka_bootstrap, namespace, "dl-big-1", "triage_incident", settle=3.0, want=2)
        assert len(routed) == 1, "replaying twice must route once"
        [replay_audit] = audits_of(kafka_bootstrap, namespace, "dl-big-1", "deadletter_replayed", want=2)
        assert replay_audit.data.details["operator"] == "test-operator"
        copies = read_topic(kafka_bootstrap, INCIDENTS.name(namespace), settle=1.0,
                            until=lambda rs: sum(b'"dl-big-1"' in r.value for r in rs) >= 2)
        assert sum(b'"dl-big-1"' in r.value for r in copies) == 2  # the original and exactly one replay
    finally:
        fixed.stop()
