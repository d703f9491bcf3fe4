"""The demo's scenario, played against a running stack: five reports over the HTTP intake (one invalid), a
recall of a product a family registered, a CAP 1.2 exercise, and malformed bytes written straight to Kafka.
Reports carry fixed Idempotency-Keys, so playing it again routes and sends nothing twice."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import httpx
from kafka import KafkaProducer

from consumers.store.core import School
from consumers.store.directory import ProductRegistration
from contracts.topics import INCIDENTS
from ops.demo_stack import CAP_SENDER, DemoStack, say
from ops.topic_reader import read_topic
from streams.internal_topics import changelog

SCENARIO_DIR = Path(__file__).parent / "demo"


@dataclass(frozen=True)
class Step:
    title: str
    file: str
    key: str
    invalid: bool = False  # sent as written (but from a scenario school, with its token): intake must refuse it


SCENARIO = (
    Step("课间跌倒 (ordinary accident)", "incident_fall.json", "demo-fall-0001"),
    Step("疑似家庭暴力 (suspected abuse: mandatory report)", "incident_abuse.json", "demo-abuse-0001"),
    Step("持刀闯入校园 (campus intrusion: school emergency)", "incident_intrusion.json", "demo-intrusion-0001"),
    Step("放学后儿童走失 (missing child: mandatory report)", "incident_missing.json", "demo-missing-0001"),
    Step("无效报告 (invalid report over HTTP)", "incident_invalid.json", "demo-invalid-0001", invalid=True),
)
RAW_BAD_BYTES = "{这不是合法的JSON".encode()


@dataclass(frozen=True)
class Played:
    """What the scenario sent, for the report: the accepted reports and where the malformed bytes landed."""

    accepted: list[tuple[Step, str]]  # (step, event id)
    malformed_at: tuple[int, int]  # (partition, offset)


def recall_for(product: ProductRegistration) -> bytes:
    """A regulator's recall of exactly the product one (fictional) family registered."""
    return json.dumps({
        "recall_number": "SAMR-DEMO-0001", "published_on": "2026-11-29", "producer": "示例儿童用品有限公司",
        "product_name": product.product_name, "product_kind": product.product_kind, "brand": product.brand,
        "model": product.model, "batch": product.batch, "barcode": product.barcode,
        "hazard_type": "机械伤害", "hazard_description": "锁扣在使用中可能意外松脱，存在儿童跌落风险。",
        "remedy": "立即停止使用，联系经销商免费更换锁扣组件", "risk_level": "high", "sales_regions": ["310100"],
    }, ensure_ascii=False).encode()


def cap_exercise(school: School) -> bytes:
    """A CAP 1.2 Exercise (a rainstorm drill) over a 3 km circle around one school."""
    from datetime import datetime

    from contracts.cap import to_cap
    from contracts.emergency import EmergencyAlertIssued

    drill = EmergencyAlertIssued.model_validate(dict(
        identifier="310101000000001_20261129100000_1", sender=CAP_SENDER,
        sent=datetime(2026, 11, 29, 2, 0, tzinfo=UTC), status="Exercise", msg_type="Alert", scope="Public",
        categories=["Met"], event="暴雨防汛演练", urgency="Immediate", severity="Severe", certainty="Observed",
        areas=[{"area_desc": "演练区", "circles": [{"center": {"lat": school.lat, "lon": school.lon},
                                                  "radius_km": 3}]}]))
    return to_cap(drill)


def _payload(step: Step, school: School | None) -> bytes:
    body = json.loads((SCENARIO_DIR / step.file).read_text())
    if school is not None:  # place the report at one of the directory's (fictional) schools
        body.update(school_id=school.id) if step.invalid else body.update(school_id=school.id,
                                                                           district_code=school.district_code)
        body["reporter"]["unit_id"] = school.id
    return json.dumps(body, ensure_ascii=False).encode()


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def _post_reports(stack: DemoStack) -> list[tuple[Step, str]]:
    accepted: list[tuple[Step, str]] = []
    for i, step in enumerate(SCENARIO):
        school = stack.schools[i % len(stack.schools)] if stack.schools else None  # the invalid one stays invalid
        resp = httpx.post(stack.intake_url + "/v1/incidents", content=_payload(step, school), timeout=30,
                          headers={"content-type": "application/json", "Idempotency-Key": step.key,
                                   **_bearer(stack.tokens.get(school.id if school else ""))})
        body = resp.json()
        if resp.status_code == 202:
            say(f"  POST {step.title}: 202 accepted as {body['id']} (partition {body['partition']}, "
                f"offset {body['offset']})")
            accepted.append((step, body["id"]))
        else:
            fields = "; ".join(f"{e['field']}: {e['reason']}" for e in body.get("errors", []))
            say(f"  POST {step.title}: {resp.status_code} refused — {fields}")
    return accepted


def _post_recall_and_cap(stack: DemoStack) -> None:
    # A recall is matched against the holdings the worker has indexed: wait until it has them all
    # (as a deployment loads holdings before recalls arrive).
    read_topic(stack.bootstrap, changelog(stack.settings.topic_namespace, "recall-holdings"), timeout=60,
               until=lambda rs: len({r.key for r in rs}) >= stack.holders)
    if stack.product is not None:
        product = stack.product
        resp = httpx.post(stack.intake_url + "/v1/recalls", content=recall_for(product), timeout=30,
                          headers={"content-type": "application/json", "Idempotency-Key": "demo-recall-1",
                                   **_bearer(stack.tokens["regulator"])})
        say(f"  POST 召回 SAMR-DEMO-0001 ({product.product_name} {product.brand} {product.model}): {resp.status_code}")
    if stack.schools and stack.schools[0].lat is not None:
        resp = httpx.post(stack.intake_url + "/v1/emergency-alerts", content=cap_exercise(stack.schools[0]),
                          timeout=30, headers={"content-type": "application/cap+xml", **_bearer(stack.tokens["cap"])})
        say(f"  POST CAP 1.2 演练 (Exercise, 3 km around {stack.schools[0].id}): {resp.status_code}")


def _write_malformed(stack: DemoStack) -> tuple[int, int]:
    producer = KafkaProducer(bootstrap_servers=stack.bootstrap, acks="all", enable_idempotence=True)
    meta = producer.send(INCIDENTS.name(stack.settings.topic_namespace), key=b"SCH-BAD", value=RAW_BAD_BYTES).get(30)
    producer.close()
    say(f"  a plain Kafka client wrote malformed bytes at partition {meta.partition}, offset {meta.offset}")
    return meta.partition, meta.offset


def play(stack: DemoStack) -> Played:
    accepted = _post_reports(stack)
    _post_recall_and_cap(stack)
    return Played(accepted, _write_malformed(stack))


def wait_quiet(sandbox_url: str, settle: float = 5.0, timeout: float = 60.0) -> dict:
    """Wait until the sandbox has received no new message for ``settle`` seconds (a re-run may send none)."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    counts: dict = {}
    while time.monotonic() < deadline:
        counts = httpx.get(sandbox_url + "/_sandbox/counts", timeout=10).json()
        if counts["total"] != last:
            last, since = counts["total"], time.monotonic()
        elif time.monotonic() - since >= (settle if last > 0 else 3 * settle):
            break
        time.sleep(0.5)
    return counts
