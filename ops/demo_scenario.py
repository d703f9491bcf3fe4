"""The demo's scenario: reports in Chinese over HTTP (an ordinary fall, suspected abuse, a campus intrusion, a
missing child, an invalid report), a recall of a registered product, a CAP 1.2 exercise, and malformed bytes from
a plain Kafka client. Reports carry fixed Idempotency-Keys, so a re-run routes and sends nothing twice."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import httpx
from kafka import KafkaProducer

from consumers.store.core import School
from consumers.store.directory import ProductRegistration
from contracts.topics import INCIDENTS
from ops.demo_stack import DemoStack, say
from ops.topic_reader import read_topic
from streams.internal_topics import changelog

SCENARIO_DIR = Path(__file__).parent / "demo"


@dataclass(frozen=True)
class Step:
    title: str
    file: str
    key: str


SCENARIO = (
    Step("课间跌倒 (ordinary accident)", "incident_fall.json", "demo-fall-0001"),
    Step("疑似家庭暴力 (suspected abuse: mandatory report)", "incident_abuse.json", "demo-abuse-0001"),
    Step("持刀闯入校园 (campus intrusion: school emergency)", "incident_intrusion.json", "demo-intrusion-0001"),
    Step("放学后儿童走失 (missing child: mandatory report)", "incident_missing.json", "demo-missing-0001"),
    Step("无效报告 (invalid report over HTTP)", "incident_invalid.json", "demo-invalid-0001"),
)
RAW_BAD_BYTES = "{这不是合法的JSON".encode()


@dataclass(frozen=True)
class Played:
    accepted: list[tuple[Step, str]]  # (step, event id) of each report the intake took
    raw_position: tuple[int, int]  # (partition, offset) of the malformed bytes


def play(stack: DemoStack) -> Played:
    url, ns = stack.intake_url, stack.settings.topic_namespace
    accepted: list[tuple[Step, str]] = []
    for i, step in enumerate(SCENARIO):
        school = stack.schools[i] if i < len(stack.schools) else None
        resp = httpx.post(url + "/v1/incidents", content=_payload(step, school), timeout=30,
                          headers={"content-type": "application/json", "Idempotency-Key": step.key})
        body = resp.json()
        if resp.status_code == 202:
            say(f"  POST {step.title}: 202 accepted as {body['id']} (partition {body['partition']}, "
                f"offset {body['offset']})")
            accepted.append((step, body["id"]))
        else:
            fields = "; ".join(f"{e['field']}: {e['reason']}" for e in body.get("errors", []))
            say(f"  POST {step.title}: {resp.status_code} refused — {fields}")

    # A recall is matched against the holdings the worker has indexed: wait until it has them all
    # (as a deployment loads holdings before recalls arrive).
    read_topic(stack.bootstrap, changelog(ns, "recall-holdings"), timeout=60,
               until=lambda rs: len({r.key for r in rs}) >= stack.holders)
    product, schools = stack.product, stack.schools
    if product is not None:
        resp = httpx.post(url + "/v1/recalls", content=_recall_for(product), timeout=30,
                          headers={"content-type": "application/json", "Idempotency-Key": "demo-recall-1"})
        say(f"  POST 召回 SAMR-DEMO-0001 ({product.product_name} {product.brand} {product.model}): {resp.status_code}")
    if schools and schools[0].lat is not None:
        resp = httpx.post(url + "/v1/emergency-alerts", content=_cap_exercise(schools[0]), timeout=30,
                          headers={"content-type": "application/cap+xml"})
        say(f"  POST CAP 1.2 演练 (Exercise, 3 km around {schools[0].id}): {resp.status_code}")
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", enable_idempotence=True)
    meta = producer.send(INCIDENTS.name(ns), key=b"SCH-BAD", value=RAW_BAD_BYTES).get(30)
    producer.close()
    say(f"  a plain Kafka client wrote malformed bytes at partition {meta.partition}, offset {meta.offset}")
    return Played(accepted, (meta.partition, meta.offset))


def _recall_for(product: ProductRegistration) -> bytes:
    """A regulator's recall of exactly the product one (fictional) family registered."""
    return json.dumps({
        "recall_number": "SAMR-DEMO-0001", "published_on": "2026-11-29", "producer": "示例儿童用品有限公司",
        "product_name": product.product_name, "product_kind": product.product_kind, "brand": product.brand,
        "model": product.model, "batch": product.batch, "barcode": product.barcode,
        "hazard_type": "机械伤害", "hazard_description": "锁扣在使用中可能意外松脱，存在儿童跌落风险。",
        "remedy": "立即停止使用，联系经销商免费更换锁扣组件", "risk_level": "high", "sales_regions": ["310100"],
    }, ensure_ascii=False).encode()


def _cap_exercise(school: School) -> bytes:
    """A CAP 1.2 Exercise (a rainstorm drill) over a 3 km circle around one school."""
    from datetime import datetime

    from contracts.cap import to_cap
    from contracts.emergency import EmergencyAlertIssued

    drill = EmergencyAlertIssued.model_validate(dict(
        identifier="310101000000001_20261129100000_1", sender="demo-emergency@example.invalid",
        sent=datetime(2026, 11, 29, 2, 0, tzinfo=UTC), status="Exercise", msg_type="Alert", scope="Public",
        categories=["Met"], event="暴雨防汛演练", urgency="Immediate", severity="Severe", certainty="Observed",
        areas=[{"area_desc": "演练区", "circles": [{"center": {"lat": school.lat, "lon": school.lon},
                                                  "radius_km": 3}]}]))
    return to_cap(drill)


def _payload(step: Step, school: School | None) -> bytes:
    body = json.loads((SCENARIO_DIR / step.file).read_text())
    if school is not None:  # place the report at one of the directory's (fictional) schools
        body.update(school_id=school.id, district_code=school.district_code)
        body["reporter"]["unit_id"] = school.id
    return json.dumps(body, ensure_ascii=False).encode()
