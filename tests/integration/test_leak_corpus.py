"""Issue 10, "Show": a generated corpus of reports with fictional names, phone numbers in every spelling and
resident IDs (valid check digits) in the free text and the reporter fields, through the whole stack on the real
broker — HTTP intake → triage → case store → SMS fan-out and dispatcher → the local sandbox. None of those names,
numbers or IDs may appear in any log line, metric, dead letter, SMS body, CAP export or topic value.

``CHILDSAFE_LEAK_CORPUS_SIZE`` sets the number of reports: 300 by default (in `make test`), 10,000 for the full
run (docs/security.md). Completion is counted from the records themselves (one triage audit record per report;
one case per mandatory report), never by waiting a fixed time.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from kafka import KafkaConsumer, TopicPartition
from prometheus_client import generate_latest
from sqlalchemy import func, select

from alerts.sandbox import FaultPlan, SmsSandbox
from consumers.cases.models import MandatoryReportCase
from consumers.sms.cap_export import alert_as_cap
from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.migrate import upgrade
from consumers.store.sms_ledger import SmsAlert
from contracts.topics import AUDIT, DEADLETTER
from ops.bootstrap import run_case_consumer
from ops.logs import id_check_character
from ops.topics_admin import apply_topics
from tests import sms_directory
from tests.cases_fixtures import seed_organisations
from tests.factories import incident
from tests.integration.helpers import SmsWorkers, StreamsWorker, read_topic, settings_for
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration

SIZE = int(os.environ.get("CHILDSAFE_LEAK_CORPUS_SIZE", "300"))
SURNAMES = ("欧阳", "司马", "上官", "诸葛", "慕容", "东方", "皇甫", "尉迟", "公孙", "令狐")  # fictional people only
GIVEN = "婧璇瑾琰珂玥昕晗骁钰翊珩岚霁蔚筠妍芊茜莞蕤萱葳蓁沅泓涵漪澜溪朔晔晟曦暄煦璟瑜瑶琪琳瑛珞瑄璐翎翀翃"
SPELLINGS = ("{a} {b} {c}", "{a}-{b}-{c}", "(+86) {a}-{b}-{c}", "0086 {a}{b}{c}", "86{a}{b}{c}", "+86 {a} {b} {c}",
             "{a}{b}{c}", "FW", "0086 {a} {b} {c}")
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CATEGORIES = (("abuse_harm", "serious"), ("fire", "critical"), ("fall", "minor"), ("bullying", "moderate"))


def fictional_person(j: int) -> str:
    """The j-th of 10 × 48 × 48 distinct made-up names (two-character surname, two given characters)."""
    return SURNAMES[j % 10] + GIVEN[(j // 10) % 48] + GIVEN[(j // 480) % 48]


def spelled(national: str, i: int) -> str:
    a, b, c = national[:3], national[3:7], national[7:]
    form = SPELLINGS[i % len(SPELLINGS)]
    return f"{a}{b}{c}".translate(FULL_WIDTH) if form == "FW" else form.format(a=a, b=b, c=c)


def corpus(size: int):
    """Reports, and every secret they carry (each as it could leak: names, number digits, spellings, IDs)."""
    assert 2 * size + 3 <= 10 * 48 * 48, "not enough distinct fictional names"
    reports, secrets = [], set()
    for i in range(size):
        reporter, child = fictional_person(2 * i), fictional_person(2 * i + 1)
        national = f"1991{i:07d}"  # +86 199 1…: a block the sandbox directory never uses
        first17 = f"310115{2010 + i % 12:04d}{1 + i % 12:02d}{1 + i % 28:02d}{i % 1000:03d}"
        resident_id = first17 + id_check_character(first17)
        category, severity = CATEGORIES[i % len(CATEGORIES)]
        description = (f"举报人{reporter}，电话{spelled(national, i)}；学生{child}（身份证{resident_id}）"
                       f"在操场被人推倒受伤，家长电话{spelled(national, i + 1)}。")
        report = incident(school_id="S1", district_code="310115", category=category, severity=severity,
                          description=description, children=[{"age": 8 + i % 9, "sex": "female", "injured": True}],
                          reporter={"role": "teacher", "unit_id": "S1", "name": reporter, "phone": f"+86{national}",
                                    "confidential": True})
        reports.append((f"leak-{i:05d}", report))
        secrets |= {reporter, child, national, "+86" + national, resident_id, spelled(national, i),
                    spelled(national, i + 1), national.translate(FULL_WIDTH)}
    return reports, secrets


def invalid_reports(names: list[str]) -> list[bytes]:
    """Refused at the door? No: sent straight to the topic by a plain Kafka client, so triage dead-letters them
    with the value in the offending fields."""
    return [json.dumps({"specversion": "1.0", "id": f"leak-bad-{i}", "source": "/tests", "type":
                        "cn.childsafe.incident.reported.v1", "time": "2026-11-29T02:30:00+00:00",
                        "data": incident(school_id="S1", district_code="310115", severity=name,
                                         reporter={"role": "teacher", "unit_id": "S1", "name": name,
                                                   "phone": "139 1991 000x"})}, ensure_ascii=False).encode()
            for i, name in enumerate(names)]


@pytest.mark.timeout(1800)
def test_no_name_number_or_id_of_the_corpus_leaks_anywhere(kafka_bootstrap, tmp_path, captured_logs):
    logging.getLogger().setLevel(logging.DEBUG)  # the most a log could say
    reports, secrets = corpus(SIZE)
    namespace = f"leak{uuid.uuid4().hex[:8]}"
    db_url = f"sqlite:///{tmp_path / 'childsafe.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "dir")
    with transaction(session_factory(engine)) as session:
        seed_organisations(session)
    apply_topics(kafka_bootstrap, namespace)
    sandbox = SmsSandbox(faults=FaultPlan(), step_seconds=0.01).start()
    settings = settings_for(kafka_bootstrap, namespace, db_url, sandbox)
    stop = threading.Event()
    cases = threading.Thread(target=run_case_consumer, args=(settings, stop), daemon=True)
    worker = StreamsWorker(kafka_bootstrap, namespace, tmp_path)
    worker.env["CHILDSAFE_LOG_LEVEL"] = "debug"
    sms = SmsWorkers(settings)
    cases.start()
    worker.start()
    started = time.monotonic()
    try:
        worker.wait_http(90)
        sms.thread.start()
        with httpx.Client(timeout=30) as client, ThreadPoolExecutor(8) as pool:
            def post(item):
                key, body = item
                return client.post(worker.url + "/v1/incidents", headers={
                    "Authorization": f"Bearer {worker.token}", "Idempotency-Key": key},
                    content=json.dumps(body, ensure_ascii=False).encode()).status_code
            statuses = list(pool.map(post, reports))
        assert statuses.count(202) == SIZE, {s: statuses.count(s) for s in set(statuses)}
        bad_names = [fictional_person(2 * SIZE + k) for k in range(3)]
        secrets |= set(bad_names)
        from tests.integration.helpers import producer
        raw = producer(kafka_bootstrap)
        for value in invalid_reports(bad_names):
            raw.send(f"{namespace}.incidents.reported.v1", key=b"S1", value=value)
        raw.flush()
        raw.close()

        audits = read_topic(kafka_bootstrap, AUDIT.name(namespace), timeout=300,
                            until=lambda rs: sum(b"triage_incident" in r.value for r in rs) >= SIZE)
        assert sum(b"triage_incident" in r.value for r in audits) >= SIZE
        mandatory = sum(1 for _, r in reports if r["category"] in ("abuse_harm",))
        with session_factory(engine)() as session:
            opened = wait_for(lambda: session.scalar(select(func.count()).select_from(MandatoryReportCase))
                              >= mandatory, timeout=300)
            assert opened, "every mandatory report opened its case"
            assert any(c.summary.startswith("举报人") for c in session.scalars(select(MandatoryReportCase).limit(5)))
        letters = read_topic(kafka_bootstrap, DEADLETTER.name(namespace), timeout=60,
                             until=lambda rs: sum(b"leak-bad" in r.value or b"incidents" in r.key for r in rs) >= 3)
        assert len(letters) >= 3
        assert wait_for(lambda: len(sandbox.messages()) > 0, timeout=300), "the school emergencies reached guardians"

        # the three plain-client messages the test itself wrote to the intake topic are input, not output:
        # everything the system wrote (their dead letters included) is searched
        haystacks = {f"topic {r.topic} @{r.partition}:{r.offset}": _text(r.value) + _text(r.key)
                     for r in every_record(kafka_bootstrap, namespace)
                     if not (r.topic.endswith(".incidents.reported.v1") and b'"leak-bad-' in (r.value or b""))}
        assert sum(where.startswith(f"topic {namespace}.cases.commands") for where in haystacks) >= mandatory
        haystacks["sms bodies"] = "\n".join(m["body"] for m in sandbox.messages())
        haystacks["worker log"] = (tmp_path / f"worker-{worker.port}.log").read_text(errors="replace")
        haystacks["in-process logs"] = captured_logs.getvalue()
        haystacks["worker metrics"] = httpx.get(worker.url + "/metrics", timeout=10).text
        haystacks["in-process metrics"] = generate_latest().decode()
        with engine.connect() as conn:
            alert_ids = conn.execute(select(SmsAlert.alert_id)).scalars().all()
        assert alert_ids
        haystacks["cap exports"] = "\n".join(alert_as_cap(engine, a).decode() for a in alert_ids)
        leaks = {(where, s) for where, text in haystacks.items() for s in secrets if s in text}
        assert not leaks, sorted(leaks)[:20]
        print(f"\nleak corpus: {SIZE} reports, {len(secrets)} secrets, {len(haystacks)} haystacks "
              f"({sum(map(len, haystacks.values())):,} chars), {len(sandbox.messages())} SMS, "
              f"{time.monotonic() - started:.1f} s")
    finally:
        sms.close()
        worker.stop()
        stop.set()
        cases.join(30)
        sandbox.stop()
        engine.dispose()


def every_record(bootstrap: str, namespace: str) -> list:
    """Every record of every topic of the namespace (the catalogue's and the workers' changelogs), one consumer."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        topics = [t for t in consumer.topics() if t.startswith(namespace)]
        tps = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        ends, records = consumer.end_offsets(tps), []
        while any(consumer.position(tp) < ends[tp] for tp in tps):
            for batch in consumer.poll(timeout_ms=1000, max_records=5000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()


def _text(value: bytes | None) -> str:
    """The bytes as text, and again with JSON's \\u escapes undone (a value escaped is still a leak)."""
    if not value:
        return ""
    text = value.decode("utf-8", "replace")
    try:
        return text + json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text
