"""`childsafe demo`: bring up the whole local stack, push a realistic scenario, show what happened.

Kafka (KRaft), the streams worker (triage + HTTP intake), the case consumer, the SMS fan-out and
dispatcher, the webhooks and the local Twilio-compatible sandbox, over a fictional city directory.
Re-running it is safe: reports carry fixed Idempotency-Keys, so a second run routes and sends nothing
twice and shows the same outcome.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import httpx
from kafka import KafkaProducer
from sqlalchemy import func, select

from consumers.cases.models import CaseAgency, MandatoryReportCase
from consumers.directory.bulk_load import load_generated
from consumers.store.core import School
from consumers.store.db import make_engine, session_factory
from consumers.store.directory import ProductRegistration
from consumers.store.migrate import upgrade
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.clock import SystemClock
from contracts.codec import decode
from contracts.events import AlertRequestedEvent, AuditRecordedEvent, DeadLetteredEvent
from contracts.topics import ALERTS_REQUESTED, AUDIT, DEADLETTER, INCIDENTS
from ops.bootstrap import build_local_kafka, publish_reference_topics
from ops.processes import ChildProcess
from ops.settings import Settings
from ops.topic_reader import read_topic
from ops.topics_admin import apply_topics
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
REGULATOR, CAP_SENDER = "SAMR-DEMO", "demo-emergency@example.invalid"


def _say(text: str) -> None:
    print(text, flush=True)


def _prepare_directory(settings: Settings) -> tuple[list[School], ProductRegistration | None, int]:
    """A fictional city (numbers in the sandbox-only +86 199… block), loaded once, and its reference topics
    (product holdings for recall matching, school locations for CAP areas) published to Kafka."""
    db_url = settings.db_url()
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        if not session.scalar(select(func.count()).select_from(School)):
            counts = load_generated(engine, schools=12, guardians=3000, seed=2026)
            _say(f"▶ directory: generated a fictional city ({sum(counts.files.values())} rows)")
        schools = session.scalars(select(School).where(School.kind != "kindergarten").order_by(School.id)).all()
        product = session.scalars(select(ProductRegistration).where(ProductRegistration.holder_kind == "guardian",
                                                                    ProductRegistration.barcode.is_not(None))
                                  .order_by(ProductRegistration.id)).first()
    engine.dispose()
    published = publish_reference_topics(settings)
    _say(f"▶ reference topics published: {published.get('holders', 0)} product holders, "
         f"{published.get('schools', 0)} school locations")
    return list(schools[:4]), product, published.get("holders", 0)


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


def _issue_tokens(settings: Settings, schools: list[School]) -> tuple[Path, dict[str, str]]:
    """The intake stays closed, as in production: a token per scenario school, the regulator, the CAP sender
    and the console, in the demo's own token book (rewritten each run; only the hashes are stored)."""
    from streams.intake_tokens import IntakeTokenBook

    path = settings.run_dir / "demo-intake-tokens.json"
    path.unlink(missing_ok=True)
    book, now = IntakeTokenBook(path), SystemClock().now()
    tokens = {s.id: book.issue(["incidents", "safety-reports"], "school", s.id, now, label="demo")[1] for s in schools}
    tokens["regulator"] = book.issue(["recalls"], "regulator", REGULATOR, now, label="demo")[1]
    tokens["cap"] = book.issue(["emergency-alerts"], "cap", CAP_SENDER, now, label="demo")[1]
    tokens["console"] = book.issue(["incidents", "safety-reports", "emergency-alerts"], "console", "demo-console", now,
                                   label="demo")[1]
    return path, tokens


def _wait_quiet(sandbox_url: str, settle: float = 5.0, timeout: float = 60.0) -> dict:
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


def _report(settings: Settings, bootstrap: str, accepted: list[tuple[Step, str]]) -> None:
    ns = settings.topic_namespace
    ids = {rid for _, rid in accepted}
    audits = read_topic(bootstrap, AUDIT.name(ns), timeout=60, until=lambda rs: ids <= {r.key.decode() for r in rs})
    triage = {}
    for r in audits:
        a = decode(r.value, AuditRecordedEvent).data
        if a.subject in ids:
            triage[a.subject] = f"{a.outcome} ({a.reason})"
    alerts: dict[str, list] = {rid: [] for rid in ids}
    for r in read_topic(bootstrap, ALERTS_REQUESTED.name(ns), timeout=5):
        a = decode(r.value, AlertRequestedEvent).data
        if a.source_event_id in alerts and a not in alerts[a.source_event_id]:
            alerts[a.source_event_id].append(a)
    engine = make_engine(settings.db_url())
    with session_factory(engine)() as session:
        for step, rid in accepted:
            _say(f"\n  {step.title}  [{rid}]")
            _say(f"    • triage: {triage.get(rid, '(not routed yet)')}")
            case = session.scalar(select(MandatoryReportCase).where(MandatoryReportCase.report_id == rid))
            if case is not None:
                agencies = session.scalars(select(CaseAgency.agency_id).where(CaseAgency.case_id == case.case_id))
                _say(f"    • case {case.case_id}: state {case.state}, risk {case.risk}, "
                     f"routed to {', '.join(sorted(agencies))}")
            for a in alerts[rid]:
                rows = session.scalars(select(SmsLedgerEntry).where(SmsLedgerEntry.alert_id == a.alert_id)).all()
                states = Counter(row.state for row in rows)
                _say(f"    • alert {a.kind.value} [{a.priority.value}] → {a.audience.kind}: "
                     f"{len(rows)} SMS {dict(states) or ''}")
                if rows:
                    body = json.loads(rows[0].job_json)["body"]
                    _say(f"        e.g. “{body}”")
    engine.dispose()


def _report_prefixed(settings: Settings, title: str, prefix: str) -> None:
    engine = make_engine(settings.db_url())
    with session_factory(engine)() as session:
        rows = session.scalars(select(SmsLedgerEntry).where(SmsLedgerEntry.alert_id.like(prefix + "%"))).all()
    engine.dispose()
    _say(f"\n  {title}")
    _say(f"    • {len(rows)} SMS {dict(Counter(r.state for r in rows)) or ''}")
    if rows:
        _say(f"        e.g. “{json.loads(rows[0].job_json)['body']}”")


DEMO_PASSWORD = "local-demo-{username}"  # local only: the console listens on 127.0.0.1 unless configured otherwise


def _console_people(settings: Settings, school: School) -> list[tuple[str, str, str]]:
    """One console account per role at the scenario school's district (created once): (username, role, unit)."""
    from console.accounts import create_user, find_user
    from consumers.store.core import Agency

    engine = make_engine(settings.db_url())
    people = []
    try:
        with session_factory(engine).begin() as session:
            def agency(kind: str) -> Agency | None:
                return session.scalars(select(Agency).where(Agency.kind == kind,
                                                            Agency.district_code == school.district_code)).first()
            police, civil = agency("public_security"), agency("civil_affairs")
            wanted = [("demo.school", "school_officer", school.id)]
            wanted += [("demo.police", "police_duty_officer", police.id)] if police else []
            wanted += [("demo.civil", "agency_duty_officer", civil.id)] if civil else []
            if police is not None and police.supervisor_id:
                wanted.append(("demo.supervisor", "supervisor", police.supervisor_id))
            wanted.append(("demo.emergency", "emergency_manager", f"em-{school.district_code}"))  # its CAP sender
            for username, role, unit in wanted:
                if find_user(session, username) is None:
                    create_user(session, username, DEMO_PASSWORD.format(username=username), role, unit,
                                f"演示 {role}", SystemClock().now())
                people.append((username, role, unit))
    finally:
        engine.dispose()
    return people


def _print_sign_ins(console_url: str, people: list[tuple[str, str, str]]) -> None:
    _say(f"\n▶ web console: {console_url}  ({len(people)} demo sign-ins, local-only accounts)")
    for username, role, unit in people:
        _say(f"  {role:<20} {unit:<16} user {username:<16} password {DEMO_PASSWORD.format(username=username)}")


def _serve_until_interrupted() -> None:
    _say("  serving until interrupted (Ctrl-C); `childsafe demo --no-serve` runs the scenario and exits")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        _say("\n▶ stopping the workers")


def run_demo(settings: Settings, serve: bool = True) -> int:
    ns = settings.topic_namespace
    broker = build_local_kafka(settings)
    _say(f"▶ Kafka {broker.version} (KRaft, single node from Maven Central jars) …")
    _say(f"  answering on {broker.bootstrap} after {broker.up():.1f}s")
    bootstrap = broker.bootstrap
    report = apply_topics(bootstrap, ns)
    _say(f"▶ topics: {len(report.created)} created, {len(report.unchanged)} unchanged, drift: {report.drift or 'none'}")
    db_url = settings.db_url()
    settings = settings.model_copy(update={"bootstrap_servers": bootstrap, "database_url": db_url})
    schools, product, holders = _prepare_directory(settings)
    _say(f"▶ database {db_url.split('///')[-1]} migrated; scenario schools: {', '.join(s.id for s in schools)}")

    sandbox_url = f"http://{settings.sms_sandbox_host}:{settings.sms_sandbox_port}"
    book, tokens = _issue_tokens(settings, schools)
    env = {"CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": ns,
           "CHILDSAFE_RUN_DIR": str(settings.run_dir), "CHILDSAFE_INTAKE_TOKENS_FILE": str(book),
           "CHILDSAFE_CONSOLE_INTAKE_TOKEN": tokens["console"],
           "CHILDSAFE_DATABASE_URL": db_url, "CHILDSAFE_TWILIO_BASE_URL": sandbox_url}
    logs = settings.run_dir / "logs"
    processes = {name: ChildProcess(args, env, logs / f"{name}.log") for name, args in [
        ("sms-sandbox", ["sms-sandbox"]), ("sms-webhooks", ["sms", "webhooks"]), ("worker", ["worker"]),
        ("cases", ["cases", "consume"]), ("sms-fanout", ["sms", "fanout"]), ("sms-dispatch", ["sms", "dispatch"]),
        ("console", ["console"])]}
    console_url = f"http://{settings.console_host}:{settings.console_port}"
    url = f"http://{settings.web_host}:{settings.web_port}"
    try:
        for proc in processes.values():
            proc.start()
        processes["sms-sandbox"].wait_http(sandbox_url + "/_sandbox/counts", timeout=60)
        took = processes["worker"].wait_http(url + "/health", timeout=90)
        _say(f"▶ workers up (streams worker at {url} after {took:.1f}s; case consumer; SMS fan-out, dispatcher, "
             f"webhooks; Twilio sandbox at {sandbox_url})\n")
        accepted: list[tuple[Step, str]] = []
        for i, step in enumerate(SCENARIO):
            school = schools[i % len(schools)] if schools else None  # the invalid one stays invalid (a 25-year-old)
            resp = httpx.post(url + "/v1/incidents", content=_payload(step, school), timeout=30,
                              headers={"content-type": "application/json", "Idempotency-Key": step.key,
                                       **_bearer(tokens.get(school.id if school else ""))})
            body = resp.json()
            if resp.status_code == 202:
                _say(f"  POST {step.title}: 202 accepted as {body['id']} (partition {body['partition']}, "
                     f"offset {body['offset']})")
                accepted.append((step, body["id"]))
            else:
                fields = "; ".join(f"{e['field']}: {e['reason']}" for e in body.get("errors", []))
                _say(f"  POST {step.title}: {resp.status_code} refused — {fields}")

        # A recall is matched against the holdings the worker has indexed: wait until it has them all
        # (as a deployment loads holdings before recalls arrive).
        read_topic(bootstrap, changelog(ns, "recall-holdings"), timeout=60,
                   until=lambda rs: len({r.key for r in rs}) >= holders)
        if product is not None:
            resp = httpx.post(url + "/v1/recalls", content=_recall_for(product), timeout=30,
                              headers={"content-type": "application/json", "Idempotency-Key": "demo-recall-1",
                                       **_bearer(tokens["regulator"])})
            _say(f"  POST 召回 SAMR-DEMO-0001 ({product.product_name} {product.brand} {product.model}): {resp.status_code}")
        if schools and schools[0].lat is not None:
            resp = httpx.post(url + "/v1/emergency-alerts", content=_cap_exercise(schools[0]), timeout=30,
                              headers={"content-type": "application/cap+xml", **_bearer(tokens["cap"])})
            _say(f"  POST CAP 1.2 演练 (Exercise, 3 km around {schools[0].id}): {resp.status_code}")
        producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
        meta = producer.send(INCIDENTS.name(ns), key=b"SCH-BAD", value=RAW_BAD_BYTES).get(30)
        producer.close()
        _say(f"  a plain Kafka client wrote malformed bytes at partition {meta.partition}, offset {meta.offset}")

        _say("\n▶ waiting for the SMS to settle at the sandbox …")
        counts = _wait_quiet(sandbox_url)
        _say("\n▶ where each report went")
        _report(settings, bootstrap, accepted)
        _report_prefixed(settings, "召回 SAMR-DEMO-0001 (recall: exact and strong matches only)", "recall:SAMR-DEMO-0001:")
        _report_prefixed(settings, "CAP 演练 (exercise: marked in every SMS)", "cap:")
        for r in read_topic(bootstrap, DEADLETTER.name(ns), timeout=10):
            d = decode(r.value, DeadLetteredEvent).data
            if (d.source_partition, d.source_offset) == (meta.partition, meta.offset):
                _say(f"\n  malformed bytes → dead-letter topic: {d.reason}")
        _say(f"\n▶ this run the sandbox received {counts.get('total', 0)} SMS for {counts.get('recipients', 0)} "
             f"recipients; duplicates (one body twice to one number): {counts.get('duplicates') or 'none'} (a re-run sends nothing already sent)")
        _say(f"▶ logs in {logs}; Kafka keeps running (stop it with `make kafka-down`)")
        processes["console"].wait_http(console_url + "/health", timeout=60)
        people = _console_people(settings, schools[0]) if schools else []
        _print_sign_ins(console_url, people)
        if serve:
            _serve_until_interrupted()
        else:
            _say("  --no-serve: stopping")
        return 0
    finally:
        for proc in reversed(list(processes.values())):
            proc.stop()
