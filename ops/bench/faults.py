"""The fault suite: the promises under load and faults, counted from the records themselves.

Reports (ordinary, mandatory, school emergencies), recalls and CAP exercises go in over HTTP at a steady rate
for a fixed time through two of every worker (under ``ops.supervisor``), a three-node KRaft cluster and
PostgreSQL, while the suite SIGKILLs one worker of each kind (the supervisor restarts it), SIGKILLs a broker and
restarts it, stops PostgreSQL for a while, and the SMS sandbox answers 20 % 500/429 and loses 5 % of responses.
Then it counts from the topics, the database and the sandbox's own message log (never the workers' logs):
reports accepted vs routed, cases per mandatory report, SMS per (alert, recipient), mandatory cases forwarded
within 15 minutes, and p50/p99 report→case and alert→provider-accepted latency. One table, and JSON.

    python -m ops.bench.faults --profile short|full|long [--json PATH]

It starts its own cluster and PostgreSQL on free ports (never the shared ones) and stops them after.
Exit status 1 when any count that must be zero is not (lost, duplicate, missing, late).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from ops.kafka_local import LocalKafkaCluster, free_port
from ops.pg_local import LocalPostgres
from ops.settings import Settings
from ops.supervisor import Supervisor, parse_counts, plan

CAP_SENDER = "demo-emergency@example.invalid"  # the sender of ops.demo's CAP exercise
FORWARD_LIMIT = timedelta(minutes=15)


@dataclass(frozen=True)
class Profile:
    seconds: float  # load time
    rate: float  # reports per second
    pg_outage_s: float
    schools: int
    guardians: int
    drain_s: float  # how long the system may take to finish after the load stops
    emergency_share: float = 0.1  # school intrusions: each tells every guardian of the school


PROFILES = {
    "short": Profile(seconds=30, rate=2.0, pg_outage_s=6, schools=4, guardians=80, drain_s=300),
    "full": Profile(seconds=300, rate=2.0, pg_outage_s=20, schools=8, guardians=160, drain_s=900,
                    emergency_share=0.05),
    "long": Profile(seconds=1800, rate=2.0, pg_outage_s=20, schools=12, guardians=600, drain_s=900,
                    emergency_share=0.05),
}
KINDS = ("streams", "cases", "escalation", "fanout", "dispatch", "webhooks", "indicators")  # every supervised worker


@dataclass
class Accepted:
    kind: str  # fall | mandatory | emergency | recall | cap
    event_id: str
    at: float


@dataclass
class Run:
    profile: str
    accepted: list[Accepted] = field(default_factory=list)
    retried_posts: int = 0
    refused: list[str] = field(default_factory=list)  # the generator's own bug: a 4xx from intake
    faults: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fault(self, text: str, started: float) -> None:
        line = f"{time.monotonic() - started:6.1f}s {text}"
        self.faults.append(line)
        print(f"  fault: {line}", flush=True)


def _incident(kind: str, school, n: int) -> dict:
    category, severity, mandatory, danger = {
        "fall": ("fall", "minor", [], False), "mandatory": ("abuse_harm", "serious", [4], True),
        "emergency": ("campus_intrusion_violence", "critical", [], True)}[kind]
    return {"school_id": school.id, "district_code": school.district_code, "class_id": "3-2",
            "occurred_at": datetime.now(UTC).isoformat(), "location": "操场", "category": category,
            "severity": severity, "description": f"故障演练生成的报告 {n}（虚构）。",
            "children": [{"age": 9, "sex": "female", "injured": kind != "fall"}], "child_in_danger_now": danger,
            "mandatory_situations": mandatory,
            "reporter": {"role": "school_safety_officer", "unit_id": school.id, "confidential": True}}


class Load:
    """Posts at a steady rate; a refused or unanswered post (a worker was just killed) is retried with the same
    Idempotency-Key on the other worker, as a client would, until it is accepted (202)."""

    def __init__(self, run: Run, urls: list[str], schools, product, profile: Profile, started: float,
                 tokens: dict[str, str]):
        self.run, self.urls, self.schools, self.product, self.profile = run, urls, schools, product, profile
        self.started, self.stop = started, threading.Event()
        self.rng = random.Random(2026)
        self.tokens = tokens  # route path -> bearer token (a console, a regulator and a CAP sender token)
        self.client = httpx.Client(timeout=20)

    def _post(self, path: str, body: bytes, key: str, content_type: str) -> dict:
        attempt = 0
        while True:
            url = self.urls[attempt % len(self.urls)]
            try:
                resp = self.client.post(url + path, content=body,
                                        headers={"content-type": content_type, "Idempotency-Key": key,
                                                 "Authorization": f"Bearer {self.tokens[path]}"})
                if resp.status_code == 202:
                    return resp.json()
                if resp.status_code < 500:
                    raise RuntimeError(f"{path} refused with {resp.status_code}: {resp.text[:300]}")
            except httpx.HTTPError:
                pass
            attempt += 1
            with self.run.lock:
                self.run.retried_posts += 1
            time.sleep(min(2.0, 0.1 * attempt))

    def one(self, n: int) -> None:
        from ops.demo_scenario import cap_exercise as _cap_exercise
        from ops.demo_scenario import recall_for as _recall_for

        roll = self.rng.random()
        key = f"fault-{n:05d}-{uuid.uuid4().hex[:6]}"
        if n % 25 == 7 and self.product is not None:
            kind, path, ctype = "recall", "/v1/recalls", "application/json"
            body = json.loads(_recall_for(self.product))
            body["recall_number"] = f"SAMR-FAULT-{n:05d}"
            raw = json.dumps(body, ensure_ascii=False).encode()
        elif n % 25 == 19:
            kind, path, ctype = "cap", "/v1/emergency-alerts", "application/cap+xml"
            raw = _cap_exercise(self.schools[n % len(self.schools)]).replace(
                b"310101000000001_20261129100000_1", f"310101000000001_20261129100000_{n}".encode())
        else:
            kind = ("mandatory" if roll < 0.4 else "emergency" if roll < 0.4 + self.profile.emergency_share
                    else "fall")
            path, ctype = "/v1/incidents", "application/json"
            raw = json.dumps(_incident(kind, self.schools[n % len(self.schools)], n), ensure_ascii=False).encode()
        try:
            answer = self._post(path, raw, key, ctype)
        except RuntimeError as exc:
            with self.run.lock:
                self.run.refused.append(str(exc)[:300])
            return
        with self.run.lock:
            self.run.accepted.append(Accepted(kind, answer["id"], time.monotonic()))

    def loop(self) -> None:
        n, interval = 0, 1.0 / self.profile.rate
        pool = []
        while not self.stop.is_set() and time.monotonic() - self.started < self.profile.seconds:
            due = self.started + n * interval
            if time.monotonic() < due:
                self.stop.wait(due - time.monotonic())
                continue
            t = threading.Thread(target=self.one, args=(n,), daemon=True)  # a slow answer does not slow the rate
            t.start()
            pool.append(t)
            n += 1
        for t in pool:
            t.join(120)


def read_all(bootstrap: str, topic: str, timeout: float = 60.0) -> list:
    """Every record of ``topic`` up to its end offsets at the time of asking (all partitions)."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends = consumer.end_offsets(tps)
        records, deadline = [], time.monotonic() + timeout
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{topic}: could not read to the end within {timeout:.0f}s")
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def routed_ids(bootstrap: str, namespace: str) -> set[str]:
    """Report ids triage has routed: it writes one audit record per report, keyed by the report id, last."""
    from contracts.topics import AUDIT

    return {r.key.decode() for r in read_all(bootstrap, AUDIT.name(namespace)) if r.key and b"triage-audit" in r.value}


def job_keys(settings: Settings) -> set[str]:
    """The (alert, recipient) dedup keys of every SMS job on the topic (each must end in one SMS)."""
    from contracts.codec import decode
    from contracts.errors import ContractError
    from contracts.events import SmsJobEvent
    from contracts.topics import SMS_JOBS

    keys = set()
    for r in read_all(settings.bootstrap_servers, SMS_JOBS.name(settings.topic_namespace)):
        try:
            keys.add(decode(r.value, SmsJobEvent).data.dedup_key)
        except ContractError:
            continue
    return keys


def _percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p99": None, "n": 0}
    ordered = sorted(values)
    return {"p50": round(statistics.median(ordered), 3),
            "p99": round(ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3), "n": len(ordered)}


def count(settings: Settings, run: Run, sandbox) -> dict:
    """Everything from the records: topics, database, the sandbox's message log."""
    from sqlalchemy import select

    from consumers.cases.models import CaseAgency, MandatoryReportCase
    from consumers.sms.jobs import job_marker
    from consumers.store.db import make_engine
    from consumers.store.sms_ledger import SmsLedgerEntry
    from contracts.codec import decode
    from contracts.events import AlertRequestedEvent, SmsJobEvent
    from contracts.topics import ALERTS_REQUESTED, SMS_JOBS

    bootstrap, ns = settings.bootstrap_servers, settings.topic_namespace
    reports = [a for a in run.accepted if a.kind in ("fall", "mandatory", "emergency")]
    routed = routed_ids(bootstrap, ns)
    lost = sorted(a.event_id for a in reports if a.event_id not in routed)

    engine = make_engine(settings.db_url())
    with engine.connect() as conn:
        cases = conn.execute(select(MandatoryReportCase.case_id, MandatoryReportCase.report_id,
                                    MandatoryReportCase.reported_at, MandatoryReportCase.opened_at)).all()
        links = conn.execute(select(CaseAgency.case_id, CaseAgency.forwarded_at).where(CaseAgency.via == "routing")).all()
        ledger = Counter(conn.execute(select(SmsLedgerEntry.state)).scalars())
        rows = {r.marker: r for r in conn.execute(select(
            SmsLedgerEntry.marker, SmsLedgerEntry.state, SmsLedgerEntry.attempts, SmsLedgerEntry.sid,
            SmsLedgerEntry.owner, SmsLedgerEntry.last_error, SmsLedgerEntry.created_at, SmsLedgerEntry.updated_at))}
    engine.dispose()
    per_report = Counter(c.report_id for c in cases)
    mandatory = [a.event_id for a in reports if a.kind == "mandatory"]
    missing_cases = [r for r in mandatory if per_report.get(r, 0) == 0]
    forwarded: dict[str, list] = {}
    for case_id, at in links:
        forwarded.setdefault(case_id, []).append(at)
    ours = [c for c in cases if c.report_id in set(mandatory)]
    on_time = [c for c in ours if forwarded.get(c.case_id) and
               all(at is not None and _aware(at) - _aware(c.reported_at) <= FORWARD_LIMIT for at in forwarded[c.case_id])]

    requested = {}
    for r in read_all(bootstrap, ALERTS_REQUESTED.name(ns)):
        event = decode(r.value, AlertRequestedEvent)
        requested.setdefault(event.data.alert_id, event.time)
    jobs = {}
    for r in read_all(bootstrap, SMS_JOBS.name(ns)):
        job = decode(r.value, SmsJobEvent).data
        jobs[job_marker(job.dedup_key)] = job
    messages = sandbox.messages()
    at_sandbox = Counter()
    accepted_at: dict[str, datetime] = {}
    for m in messages:
        marker = (m.get("status_callback") or "").partition("job=")[2]
        if marker:
            at_sandbox[marker] += 1
            accepted_at.setdefault(marker, datetime.fromisoformat(m["created"]))
    duplicates = {k: n for k, n in at_sandbox.items() if n > 1}
    # the records behind each duplicate: what the provider holds and what the ledger says, to tell the cause
    duplicate_details = [{"marker": k, "ledger": _row(rows.get(k)),
                          "at_sandbox": [{f: m.get(f) for f in ("sid", "created", "status", "fault")}
                                         for m in messages if (m.get("status_callback") or "").endswith(f"job={k}")]}
                         for k in sorted(duplicates)][:20]
    missing_sms = sorted(k for k in jobs if k not in at_sandbox)
    alert_latency = [(accepted_at[k] - requested[j.alert_id]).total_seconds()
                     for k, j in jobs.items() if k in accepted_at and j.alert_id in requested]
    case_latency = [(_aware(c.opened_at) - _aware(c.reported_at)).total_seconds() for c in ours]
    return {
        "reports_accepted": len(reports), "reports_routed": len(reports) - len(lost), "reports_lost": len(lost),
        "lost_ids": lost[:20], "lost_where": _where(bootstrap, ns, set(lost[:200])), "recalls_accepted": sum(a.kind == "recall" for a in run.accepted),
        "cap_alerts_accepted": sum(a.kind == "cap" for a in run.accepted),
        "mandatory_reports": len(mandatory), "cases": len(ours), "missing_cases": len(missing_cases),
        "duplicate_cases": sum(n - 1 for n in per_report.values() if n > 1),
        "forwarded_within_15_min": len(on_time), "forwarded_share": (len(on_time) / len(ours)) if ours else 1.0,
        "sms_jobs": len(jobs), "sms_at_sandbox": sum(at_sandbox.values()), "sms_duplicates": sum(n - 1 for n in
                                                                                                duplicates.values()),
        "sms_missing": len(missing_sms), "ledger_states": dict(ledger), "duplicate_sms_details": duplicate_details,
        "missing_sms_ledger": [_row(rows.get(k)) or {"marker": k, "ledger": None} for k in missing_sms[:20]],
        "report_to_case_s": _percentiles(case_latency), "alert_to_provider_s": _percentiles(alert_latency),
        "client_retries": run.retried_posts, "refused_by_intake": run.refused[:5], "faults": run.faults,
    }


def _row(row) -> dict | None:
    return None if row is None else {k: getattr(row, k) for k in row._fields}


def _where(bootstrap: str, namespace: str, ids: set[str]) -> list[dict]:
    """Where each lost report sits on the intake topic (partition, offset): which consumer owned it."""
    from contracts.topics import INCIDENTS

    if not ids:
        return []
    return [{"partition": r.partition, "offset": r.offset, "key": r.key.decode(errors="replace") if r.key else None,
             "id": i} for r in read_all(bootstrap, INCIDENTS.name(namespace))
            for i in [_event_id(r.value)] if i in ids]


def _event_id(value: bytes | None) -> str | None:
    try:
        return json.loads(value or b"{}").get("id")
    except ValueError:
        return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def failures(result: dict) -> list[str]:
    checks = {"reports lost": result["reports_lost"], "missing cases": result["missing_cases"],
              "duplicate cases": result["duplicate_cases"], "duplicate SMS": result["sms_duplicates"],
              "missing SMS": result["sms_missing"],
              "cases forwarded late or not at all": result["cases"] - result["forwarded_within_15_min"]}
    problems = [f"{name}: {n}" for name, n in checks.items() if n]
    if result["refused_by_intake"]:
        problems.append(f"the generator sent input intake refused: {result['refused_by_intake'][0]}")
    if result["reports_accepted"] == 0:
        problems.append("no report was accepted")
    return problems


def table(result: dict, profile: Profile) -> str:
    rows = [
        ("load held", f"{profile.rate:g} reports/s for {profile.seconds / 60:.2f} min "
                      f"(+{result['recalls_accepted']} recalls, {result['cap_alerts_accepted']} CAP alerts)"),
        ("faults survived", f"{len(result['faults'])}: " + "; ".join(f.split(' ', 1)[1].strip() for f in result["faults"])),
        ("reports accepted / routed / lost", f"{result['reports_accepted']} / {result['reports_routed']} / "
                                              f"{result['reports_lost']}"),
        ("mandatory reports / cases / duplicate cases", f"{result['mandatory_reports']} / {result['cases']} / "
                                                         f"{result['duplicate_cases']}"),
        ("SMS jobs / at the sandbox / duplicate / missing", f"{result['sms_jobs']} / {result['sms_at_sandbox']} / "
                                                             f"{result['sms_duplicates']} / {result['sms_missing']}"),
        ("mandatory cases forwarded within 15 min", f"{result['forwarded_share']:.0%} ({result['forwarded_within_15_min']}"
                                                     f" of {result['cases']})"),
        ("report → case p50 / p99", _fmt(result["report_to_case_s"])),
        ("alert → provider accepted p50 / p99", _fmt(result["alert_to_provider_s"])),
        ("client retries (a worker was down)", str(result["client_retries"])),
    ]
    width = max(len(r[0]) for r in rows)
    return "\n".join(f"| {k.ljust(width)} | {v} |" for k, v in rows)


def _fmt(p: dict) -> str:
    return "n/a" if p["p50"] is None else f"{p['p50']:.2f} s / {p['p99']:.2f} s (n={p['n']})"


def run_suite(profile_name: str, json_path: Path | None = None, work: Path | None = None) -> int:
    from sqlalchemy import select

    from alerts.sandbox import FaultPlan, FaultRule, SmsSandbox
    from consumers.directory.bulk_load import load_generated
    from consumers.store.core import School
    from consumers.store.db import make_engine, session_factory
    from consumers.store.directory import ProductRegistration
    from consumers.store.migrate import upgrade
    from ops.bootstrap import publish_reference_topics
    from ops.topics_admin import apply_topics

    profile = PROFILES[profile_name]
    work = work or Path(tempfile.mkdtemp(prefix="childsafe-faults-"))
    t0 = time.monotonic()
    say = lambda text: print(f"[{time.monotonic() - t0:6.1f}s] {text}", flush=True)  # noqa: E731
    cluster = LocalKafkaCluster.on_free_ports(work / "kafka", 3, heap="384m")
    pg = LocalPostgres(port=free_port())  # its own temp folder: the server may run as the postgres user
    sandbox = SmsSandbox(faults=FaultPlan([FaultRule("server_error", rate=0.10), FaultRule("rate_limited", rate=0.111),
                                           FaultRule("response_lost", rate=0.05 / 0.8)], seed=11),
                         step_seconds=0.05, callback_retries=2)
    supervisor = None
    run = Run(profile_name)
    try:
        say(f"profile {profile_name}: {profile.rate:g} reports/s for {profile.seconds:g}s; starting 3 KRaft nodes "
            f"and PostgreSQL in {work}")
        cluster.up(timeout=420)  # three JVMs formatting and starting on a busy machine
        db_url = pg.start()
        upgrade(db_url)
        ns = f"faults{uuid.uuid4().hex[:6]}"
        topics = apply_topics(cluster.bootstrap, ns)
        say(f"cluster {cluster.bootstrap} (replication {topics.replication}); PostgreSQL {db_url}")
        engine = make_engine(db_url)
        load_generated(engine, schools=profile.schools, guardians=profile.guardians, seed=2026)
        with session_factory(engine)() as session:
            schools = session.scalars(select(School).where(School.kind != "kindergarten", School.lat.is_not(None))
                                      .order_by(School.id)).all()
            product = session.scalars(select(ProductRegistration).where(ProductRegistration.holder_kind == "guardian",
                                                                        ProductRegistration.barcode.is_not(None))
                                      .order_by(ProductRegistration.id)).first()
        engine.dispose()
        sandbox.start()
        webhook_ports = [free_port(), free_port()]
        settings = Settings(bootstrap_servers=cluster.bootstrap, topic_namespace=ns, database_url=db_url,
                            run_dir=work / "run")
        publish_reference_topics(settings)
        env = {"CHILDSAFE_BOOTSTRAP_SERVERS": cluster.bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": ns,
               "CHILDSAFE_DATABASE_URL": db_url, "CHILDSAFE_RUN_DIR": str(work / "run"),
               "CHILDSAFE_INTAKE_TOKENS_FILE": str(settings.intake_tokens_path()),  # instance 2 has its own run dir
               "CHILDSAFE_TWILIO_BASE_URL": sandbox.url,
               "CHILDSAFE_TWILIO_ACCOUNT_SID": sandbox.account_sid, "CHILDSAFE_TWILIO_AUTH_TOKEN": sandbox.auth_token,
               "CHILDSAFE_SMS_CALLBACK_BASE_URL": f"http://127.0.0.1:{webhook_ports[0]}",
               "CHILDSAFE_SMS_LEASE_S": "10", "CHILDSAFE_SMS_RECONCILE_DELAY_S": "0.5",
               "CHILDSAFE_SMS_RETRY_BASE_S": "0.2", "CHILDSAFE_SMS_RETRY_CAP_S": "2",
               "CHILDSAFE_SMS_RETRY_MAX_ATTEMPTS": "80", "CHILDSAFE_TWILIO_TIMEOUT_S": "3",
               "CHILDSAFE_SMS_RATE_PER_S": "200", "CHILDSAFE_SMS_CONSUMER_SESSION_TIMEOUT_MS": "6000",
               "CHILDSAFE_CASE_SESSION_TIMEOUT_MS": "6000", "CHILDSAFE_CASE_TICK_SECONDS": "5",
               "CHILDSAFE_SMS_QUIET_START": "00:00", "CHILDSAFE_SMS_QUIET_END": "00:00",  # every SMS is due now
               "CHILDSAFE_LOG_LEVEL": "warning",
               **{f"CHILDSAFE_{p}": "0" for p in ("CASE_METRICS_PORT", "ESCALATION_METRICS_PORT",
                                                  "SMS_FANOUT_METRICS_PORT", "SMS_DISPATCH_METRICS_PORT")}}
        tokens = _issue_tokens(settings)
        children = plan(settings, {**parse_counts("desk=0"), **{k: 2 for k in KINDS}}, work / "logs", env)
        web_ports = [free_port(), free_port()]
        for child in children:
            kind, i = child.name.rsplit("-", 1)
            if kind == "streams":
                child.process.env["CHILDSAFE_WEB_PORT"] = str(web_ports[int(i) - 1])
            if kind == "webhooks":
                child.process.env["CHILDSAFE_SMS_WEBHOOK_PORT"] = str(webhook_ports[int(i) - 1])
        supervisor = Supervisor(children, base_s=0.5, cap_s=5.0).start()
        urls = [f"http://127.0.0.1:{p}" for p in web_ports]
        for url in urls:
            _wait_http(url + "/health", 180, supervisor)
        say(f"{len(children)} workers up: {', '.join(c.name for c in children)}")

        started = time.monotonic()
        load = Load(run, urls, schools, product, profile, started, tokens)
        loader = threading.Thread(target=load.loop, daemon=True)
        loader.start()
        _inject_faults(run, supervisor, cluster, pg, profile, started, say)
        loader.join(profile.seconds + 180)
        say(f"load done: {len(run.accepted)} accepted; draining (at most {profile.drain_s:g}s)")
        _drain(settings, run, sandbox, supervisor, profile.drain_s, say)
        result = count(settings, run, sandbox)
        result.update(profile=profile_name, profile_settings=asdict(profile), brokers=len(cluster.ports),
                      topic_replication=topics.replication, incidents_topic_config=_topic_config(cluster, ns),
                      restarts={c.name: c.restarts for c in supervisor.children})
    finally:
        if supervisor is not None:
            supervisor.stop()
        sandbox.stop()
        cluster.down()
        pg.stop()
    print("\n" + table(result, profile), flush=True)
    problems = failures(result)
    result["failures"] = problems
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str))
        print(f"JSON: {json_path}")
    print("FAILED: " + "; ".join(problems) if problems else "all counts as promised", flush=True)
    return 1 if problems else 0


def _issue_tokens(settings: Settings) -> dict[str, str]:
    """Intake is closed by default: a console token (reports for any school), a regulator's and a CAP sender's,
    as `childsafe intake token` issues them, in the run folder the workers read."""
    from streams.intake_tokens import IntakeTokenBook

    book, now = IntakeTokenBook(settings.intake_tokens_path()), datetime.now(UTC)
    issued = {path: book.issue([route], kind, sender, now, label="fault suite")[1]
              for path, route, kind, sender in (("/v1/incidents", "incidents", "console", "fault-suite"),
                                                ("/v1/recalls", "recalls", "regulator", "samr-fault-suite"),
                                                ("/v1/emergency-alerts", "emergency-alerts", "cap", CAP_SENDER))}
    return issued


def _topic_config(cluster: LocalKafkaCluster, namespace: str) -> dict[str, str]:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType

    from contracts.topics import INCIDENTS

    admin = KafkaAdminClient(bootstrap_servers=cluster.bootstrap)
    try:
        name = INCIDENTS.name(namespace)
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)]).get("topic", {})
        return {k: v["value"] for k, v in described.get(name, {}).items()
                if k in ("min.insync.replicas", "unclean.leader.election.enable", "max.message.bytes")}
    finally:
        admin.close()


def _wait_http(url: str, timeout: float, supervisor: Supervisor) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s; see the worker logs")


def _inject_faults(run: Run, supervisor: Supervisor, cluster: LocalKafkaCluster, pg: LocalPostgres,
                   profile: Profile, started: float, say) -> None:
    """At fixed shares of the load time: SIGKILL one worker of each kind, a broker (restarted), PostgreSQL off."""
    schedule = [(0.10 + 0.06 * i, ("kill", f"{kind}-1")) for i, kind in enumerate(KINDS)]
    schedule += [(0.50, ("broker_kill", 1)), (0.60, ("broker_start", 1)), (0.70, ("pg_stop", None))]
    schedule.sort(key=lambda s: s[0])
    node = cluster.nodes[1]
    last_progress = 0.0
    while time.monotonic() - started < profile.seconds:
        elapsed = (time.monotonic() - started) / profile.seconds
        while schedule and schedule[0][0] <= elapsed:
            _, (what, target) = schedule.pop(0)
            if what == "kill":
                supervisor.child(target).process.kill()
                run.fault(f"SIGKILL {target}", started)
            elif what == "broker_kill":
                node.kill()
                run.fault(f"SIGKILL broker {node.node_id}", started)
            elif what == "broker_start":
                node.start()
                run.fault(f"broker {node.node_id} restarted", started)
            elif what == "pg_stop":
                pg.halt()
                run.fault(f"PostgreSQL stopped for {profile.pg_outage_s:g}s", started)
                deadline = time.monotonic() + profile.pg_outage_s
                while time.monotonic() < deadline:
                    supervisor.check()
                    time.sleep(0.5)
                pg.start()
                run.fault("PostgreSQL started again", started)
        supervisor.check()
        if time.monotonic() - last_progress >= 5:
            last_progress = time.monotonic()
            say(f"load {time.monotonic() - started:5.0f}/{profile.seconds:g}s: {len(run.accepted)} accepted, "
                f"{run.retried_posts} client retries, restarts "
                f"{sum(c.restarts for c in supervisor.children)}")
        time.sleep(0.3)


def _drain(settings: Settings, run: Run, sandbox, supervisor: Supervisor, limit_s: float, say) -> None:
    """Until the ledger has nothing in flight and the sandbox log stopped growing for a while (or ``limit_s``)."""
    from sqlalchemy import func, select

    from consumers.store.db import make_engine
    from consumers.store.sms_ledger import SmsLedgerEntry

    engine = make_engine(settings.db_url())
    deadline, last, quiet_since = time.monotonic() + limit_s, -1, None
    reports = {a.event_id for a in run.accepted if a.kind in ("fall", "mandatory", "emergency")}
    try:
        while time.monotonic() < deadline:
            supervisor.check()
            with engine.connect() as conn:
                busy = conn.scalar(select(func.count()).select_from(SmsLedgerEntry)
                                   .where(SmsLedgerEntry.state.in_(("sending", "retry", "reconcile"))))
                claimed = conn.scalar(select(func.count()).select_from(SmsLedgerEntry))
            jobs = len(job_keys(settings))
            busy += max(0, jobs - claimed)  # jobs on the topic the dispatchers have not claimed yet
            total = len(sandbox.messages())
            unrouted = len(reports - routed_ids(settings.bootstrap_servers, settings.topic_namespace))
            if busy == 0 and total == last and not unrouted:
                quiet_since = quiet_since or time.monotonic()
                if time.monotonic() - quiet_since >= 10:
                    return
            else:
                quiet_since = None
            last = total
            say(f"draining: {unrouted} reports not routed yet, {busy} ledger rows in flight, {total} SMS at the sandbox")
            time.sleep(3)
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--json", type=Path, default=None, help="write the counts here")
    parser.add_argument("--work-dir", type=Path, default=None, help="cluster, database and logs (default: a temp dir)")
    args = parser.parse_args(argv)
    return run_suite(args.profile, args.json, args.work_dir)


if __name__ == "__main__":
    sys.exit(main())
