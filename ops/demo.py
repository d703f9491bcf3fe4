"""`childsafe demo`: bring up the local stack, push a realistic scenario, and show where each report went.

Re-running it is safe: reports carry fixed Idempotency-Keys, so a second run routes nothing twice
and shows the same outcome.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import httpx

from contracts.codec import decode
from contracts.events import AlertRequestedEvent, AuditRecordedEvent, DeadLetteredEvent, OpenCaseCommand
from contracts.topics import ALERTS_REQUESTED, AUDIT, CASE_COMMANDS, DEADLETTER, INCIDENTS
from ops.kafka_local import LocalKafka
from ops.processes import ChildProcess
from ops.settings import Settings
from ops.topic_reader import read_topic
from ops.topics_admin import apply_topics

SCENARIO_DIR = Path(__file__).parent / "demo"
DEMO_TOKEN = "demo-intake-token"


@dataclass(frozen=True)
class Step:
    title: str
    file: str
    key: str


SCENARIO = (
    Step("课间跌倒 (ordinary accident)", "incident_fall.json", "demo-fall-0001"),
    Step("疑似家庭暴力 (suspected abuse: mandatory report)", "incident_abuse.json", "demo-abuse-0001"),
    Step("持刀闯入校园 (campus intrusion: emergency)", "incident_intrusion.json", "demo-intrusion-0001"),
    Step("放学后儿童走失 (missing child: mandatory + emergency)", "incident_missing.json", "demo-missing-0001"),
    Step("无效报告 (invalid report over HTTP)", "incident_invalid.json", "demo-invalid-0001"),
)
RAW_BAD_BYTES = "{这不是合法的JSON".encode()


def _post(url: str, step: Step) -> tuple[int, dict]:
    resp = httpx.post(url + "/v1/incidents", content=(SCENARIO_DIR / step.file).read_bytes(), timeout=30,
                      headers={"content-type": "application/json", "Idempotency-Key": step.key,
                               "Authorization": f"Bearer {DEMO_TOKEN}"})
    return resp.status_code, resp.json()


def _describe(bootstrap: str, ns: str, report_ids: list[str]) -> dict[str, list[str]]:
    """Everything the stack produced for each report, read back from the output topics."""
    wanted = set(report_ids)
    audits = read_topic(bootstrap, AUDIT.name(ns), timeout=60,
                        until=lambda rs: wanted <= {r.key.decode() for r in rs})
    lines: dict[str, list[str]] = {rid: [] for rid in report_ids}
    for r in audits:
        a = decode(r.value, AuditRecordedEvent)
        if a.data.subject in lines:
            lines[a.data.subject].append(f"triage → {a.data.outcome}  ({a.data.reason})")
    for r in read_topic(bootstrap, CASE_COMMANDS.name(ns), timeout=5):
        c = decode(r.value, OpenCaseCommand).data
        if c.report_id in lines:
            agencies = ", ".join(a.value for a in c.agencies)
            lines[c.report_id].append(f"case {c.case_id} opened, risk {c.risk.value}, routed to {agencies}")
    for r in read_topic(bootstrap, ALERTS_REQUESTED.name(ns), timeout=5):
        a = decode(r.value, AlertRequestedEvent).data
        if a.source_event_id in lines:
            lines[a.source_event_id].append(
                f"alert {a.kind.value} [{a.priority.value}] → {a.audience.kind}"
                + (" (sensitive: no names or details)" if a.sensitive else ""))
    return lines


def run_demo(settings: Settings) -> int:
    ns = settings.topic_namespace
    broker = LocalKafka(run_dir=settings.run_dir / "kafka", port=settings.kafka_port,
                        controller_port=settings.kafka_controller_port)
    print(f"▶ Kafka {broker.version} (KRaft, single node) …", flush=True)
    took = broker.up()
    bootstrap = broker.bootstrap
    print(f"  answering on {bootstrap} after {took:.1f}s")
    report = apply_topics(bootstrap, ns)
    print(f"▶ topics: {len(report.created)} created, {len(report.unchanged)} unchanged, drift: {report.drift or 'none'}")

    env = {"CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": ns,
           "CHILDSAFE_RUN_DIR": str(settings.run_dir), "CHILDSAFE_INTAKE_TOKENS": DEMO_TOKEN}
    worker = ChildProcess(["worker"], env, settings.run_dir / "logs" / "worker.log").start()
    url = f"http://{settings.web_host}:{settings.web_port}"
    try:
        took = worker.wait_http(url + "/health", timeout=90)
        print(f"▶ streams worker (Faust triage + HTTP intake) up at {url} after {took:.1f}s\n")
        accepted: list[tuple[Step, str]] = []
        for step in SCENARIO:
            status, body = _post(url, step)
            if status == 202:
                print(f"  POST {step.title}: 202 accepted as {body['id']} (partition {body['partition']}, "
                      f"offset {body['offset']})")
                accepted.append((step, body["id"]))
            else:
                fields = "; ".join(f"{e['field']}: {e['reason']}" for e in body.get("errors", []))
                print(f"  POST {step.title}: {status} refused — {fields}")
        from kafka import KafkaProducer

        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        meta = producer.send(INCIDENTS.name(ns), key=b"SCH-310115-0009", value=RAW_BAD_BYTES).get(30)
        producer.close()
        print(f"  raw Kafka client wrote malformed bytes at partition {meta.partition}, offset {meta.offset}\n")

        print("▶ where each report went")
        outcome = _describe(bootstrap, ns, [rid for _, rid in accepted])
        for step, rid in accepted:
            print(f"\n  {step.title}  [{rid}]")
            for line in outcome[rid] or ["(not routed yet)"]:
                print(f"    • {line}")
        dead = read_topic(bootstrap, DEADLETTER.name(ns), timeout=30,
                          until=lambda rs: any(r.value and decode(r.value, DeadLetteredEvent).data.source_offset
                                               == meta.offset for r in rs))
        for r in dead:
            d = decode(r.value, DeadLetteredEvent).data
            if d.source_offset == meta.offset and d.source_partition == meta.partition:
                print(f"\n  malformed bytes → dead-letter topic: {d.reason}")
        print(f"\n▶ logs in {settings.run_dir / 'logs'}; Kafka keeps running (stop it with `make kafka-down`)")
        return 0
    finally:
        worker.stop()
