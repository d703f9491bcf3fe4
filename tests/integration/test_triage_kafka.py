"""The streams worker on the real broker: HTTP and raw-client reports routed, duplicates once,
malformed input dead-lettered with reasons while valid reports around it are still routed."""

from __future__ import annotations

import json

import pytest

from contracts.codec import decode
from contracts.events import AuditRecordedEvent, DeadLetteredEvent, OpenCaseCommand
from contracts.sealed import Keyring
from contracts.topics import ALERTS_REQUESTED, AUDIT, CASE_COMMANDS, DEADLETTER, INCIDENTS
from ops.settings import LOCAL_FIELD_KEY
from streams.triage import case_id_for
from tests.factories import envelope, incident, incident_bytes
from tests.integration.helpers import StreamsWorker, producer, read_topic

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def worker(kafka_bootstrap, tmp_path_factory):
    import uuid

    namespace = f"tri{uuid.uuid4().hex[:8]}"
    w = StreamsWorker(kafka_bootstrap, namespace, tmp_path_factory.mktemp("streams"))
    w.start()
    w.wait_http()
    w.namespace = namespace
    yield w
    w.stop()


def _audited(bootstrap, namespace, ids, timeout=60, settle=0.0):
    wanted = set(ids)
    records = read_topic(bootstrap, AUDIT.name(namespace), timeout=timeout, settle=settle,
                         until=lambda rs: wanted <= {r.key.decode() for r in rs})
    return [decode(r.value, AuditRecordedEvent) for r in records if r.key.decode() in wanted]


def test_report_over_http_is_routed_to_case_alert_and_audit(worker, kafka_bootstrap):
    body = incident(category="abuse_harm", severity="serious", child_in_danger_now=True, mandatory_situations=[4])
    resp = worker.post("/v1/incidents", body)
    assert resp.status_code == 202, resp.text
    accepted = resp.json()
    assert accepted["topic"] == INCIDENTS.name(worker.namespace) and accepted["offset"] >= 0
    report_id = accepted["id"]
    case_id = case_id_for(report_id)
    cases = read_topic(kafka_bootstrap, CASE_COMMANDS.name(worker.namespace),
                       until=lambda rs: any(r.key == case_id.encode() for r in rs))
    [command] = [decode(r.value, OpenCaseCommand) for r in cases if r.key == case_id.encode()]
    assert command.data.report_id == report_id and command.correlationid == report_id
    alerts = read_topic(kafka_bootstrap, ALERTS_REQUESTED.name(worker.namespace),
                        until=lambda rs: any(r.key.decode().startswith(report_id) for r in rs))
    assert [r.key.decode() for r in alerts if r.key.decode().startswith(report_id)] == [
        f"{report_id}:school_contacts:0"], "duty officers are told by the case workflow, not by triage"
    [audit] = _audited(kafka_bootstrap, worker.namespace, [report_id])
    assert audit.data.outcome == "mandatory_case"


def test_report_from_a_plain_kafka_client_is_routed(worker, kafka_bootstrap):
    p = producer(kafka_bootstrap)
    p.send(INCIDENTS.name(worker.namespace), key=b"SCH-310115-0001", value=incident_bytes(id="raw-client-1")).get(30)
    p.close()
    [audit] = _audited(kafka_bootstrap, worker.namespace, ["raw-client-1"])
    assert audit.data.outcome == "recorded"


def test_the_same_report_sent_three_times_is_routed_once(worker, kafka_bootstrap):
    p = producer(kafka_bootstrap)
    for _ in range(3):
        p.send(INCIDENTS.name(worker.namespace), key=b"SCH-310115-0001", value=incident_bytes(id="dup-raw")).get(30)
    p.close()
    for _ in range(2):  # a client retrying over HTTP with its Idempotency-Key
        resp = worker.post("/v1/incidents", incident(), headers={"Idempotency-Key": "dup-http"})
        assert resp.status_code == 202 and resp.json()["id"] == "dup-http"
    audits = _audited(kafka_bootstrap, worker.namespace, ["dup-raw", "dup-http"], settle=3.0)
    assert sorted(a.data.subject for a in audits) == ["dup-http", "dup-raw"]


MALFORMED = [
    b"",
    b"not json at all",
    b"\xff\xfe\xfd",
    b"[]",
    b'{"specversion": "1.0"}',
    json.dumps(envelope(incident(), id="bad-version", type="cn.childsafe.incident.reported.v9")).encode(),
    json.dumps(envelope(incident(category="alien_abduction"), id="bad-category")).encode(),
    json.dumps(envelope(incident(children=[{"age": "eight"}]), id="bad-age")).encode(),
    json.dumps(envelope({k: v for k, v in incident().items() if k != "school_id"}, id="no-school")).encode(),
    json.dumps(envelope(incident(occurred_at="yesterday"), id="bad-time")).encode(),
]


def test_malformed_inputs_are_dead_lettered_while_valid_reports_around_them_are_routed(worker, kafka_bootstrap):
    topic = INCIDENTS.name(worker.namespace)
    p = producer(kafka_bootstrap)
    valid_ids = []
    for i, bad in enumerate(MALFORMED):
        valid_ids.append(f"around-{i}")
        p.send(topic, key=b"SCH-310115-0009", value=incident_bytes(id=f"around-{i}"))
        p.send(topic, key=b"SCH-310115-0009", value=bad)
    p.flush()
    p.close()
    audits = _audited(kafka_bootstrap, worker.namespace, valid_ids)
    assert len(audits) == len(MALFORMED), "a valid report next to bad input was lost"
    dead = read_topic(kafka_bootstrap, DEADLETTER.name(worker.namespace),
                      until=lambda rs: len(rs) >= len(MALFORMED), settle=2.0)
    records = [decode(r.value, DeadLetteredEvent).data for r in dead]
    assert all(d.value_sealed is not None and d.value_b64 == "" for d in records)  # nothing readable on the topic
    keyring = Keyring.parse(LOCAL_FIELD_KEY)  # the worker's key (loopback default)
    assert sorted(d.original(keyring) for d in records) == sorted(MALFORMED), "bytes must be exact"
    assert all(d.source_topic == topic and d.source_offset >= 0 and d.reason for d in records)
    reasons = " | ".join(d.reason for d in records)
    for expected in ("not valid JSON", "unsupported schema version", "data.category", "data.children.0.age",
                     "data.school_id", "data.occurred_at"):
        assert expected in reasons


@pytest.mark.parametrize("body,headers,token,status,field", [
    (b"{nope", {}, "default", 400, "(body)"),
    (incident(district_code="3101"), {}, "default", 422, "data.district_code"),
    (incident(children=[{"age": 30}]), {}, "default", 422, "data.children.0.age"),
    (incident(), {"Idempotency-Key": "has spaces"}, "default", 400, "Idempotency-Key"),
])  # tokens, routes and senders: tests/unit/test_intake_door.py
def test_http_intake_refuses_bad_input_clearly(worker, body, headers, token, status, field):
    resp = worker.post("/v1/incidents", body, headers=headers, token=token)
    assert resp.status_code == status, resp.text
    if field:
        assert field in [e["field"] for e in resp.json()["errors"]]


def test_oversized_body_is_refused_with_413(worker):
    huge = incident(description="很" * 200_000)
    assert worker.post("/v1/incidents", huge).status_code == 413


def test_other_intake_endpoints_accept_their_contracts(worker):
    from contracts import events as ev
    from tests.contract_samples import VALID

    for path, event in [("/v1/recalls", ev.RecallPublishedEvent), ("/v1/safety-reports", ev.SafetyReportFiledEvent),
                        ("/v1/emergency-alerts", ev.EmergencyAlertIssuedEvent)]:
        assert worker.post(path, VALID[event]).status_code == 202, path
        assert worker.post(path, {"nonsense": 1}).status_code == 422, path
