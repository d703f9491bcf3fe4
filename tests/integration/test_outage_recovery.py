"""PostgreSQL stopped and started again under a running case consumer and SMS dispatcher (real Kafka, a real
PostgreSQL of this test's own, the SMS sandbox): both wait the outage out and resume; every case command
opens exactly one case and every SMS job reaches the provider exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from consumers.cases.models import MandatoryReportCase
from consumers.metrics import OUTAGE_RETRIES
from consumers.sms.jobs import dedup_key, job_event, job_marker
from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.migrate import upgrade
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.common import Priority
from contracts.sms import SmsJob
from contracts.topics import CASE_COMMANDS, SMS_JOBS
from ops.bootstrap import build_dispatch, run_case_consumer
from ops.kafka_local import free_port
from ops.pg_local import LocalPostgres
from ops.settings import Settings
from ops.topics_admin import apply_topics
from tests.cases_fixtures import command_bytes, open_case, seed_organisations
from tests.integration.helpers import producer
from tests.wait_for import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
N = 25


def sms_job(i: int) -> SmsJob:
    return SmsJob(dedup_key=dedup_key("A-OUTAGE", f"g:O{i:04d}"), alert_id="A-OUTAGE", recipient_id=f"g:O{i:04d}",
                  to=f"+861990000{100 + i:04d}", body=f"【儿童安全】停机演练 {i}", priority=Priority.URGENT, segments=1)


def retries(worker: str) -> float:
    return OUTAGE_RETRIES.labels(worker, "database")._value.get()


@pytest.mark.timeout(300)
def test_postgres_stopped_and_restarted_under_the_case_consumer_and_the_dispatcher(kafka_bootstrap, namespace,
                                                                                   sms_sandbox, tmp_path):
    pg = LocalPostgres(port=free_port())
    db_url = pg.start()
    stop = threading.Event()
    threads: list[threading.Thread] = []
    try:
        upgrade(db_url)
        engine = make_engine(db_url)
        with transaction(session_factory(engine)) as s:
            seed_organisations(s)
        apply_topics(kafka_bootstrap, namespace)
        settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=db_url,
                            twilio_base_url=sms_sandbox.url, twilio_account_sid=sms_sandbox.account_sid,
                            twilio_auth_token=sms_sandbox.auth_token, sms_callback_base_url="http://127.0.0.1:9",
                            sms_consumer_session_timeout_ms=6000, case_session_timeout_ms=6000,
                            sms_rate_per_s=1000, sms_quiet_start="00:00", sms_quiet_end="00:00",
                            case_metrics_port=0, sms_dispatch_metrics_port=0)
        dispatch = build_dispatch(settings, stop)  # one stop event: the loop's and its outage waits'
        threads = [threading.Thread(target=run_case_consumer, args=(settings, stop), name="cases"),
                   threading.Thread(target=dispatch.run, name="dispatch")]
        for t in threads:
            t.start()
        p = producer(kafka_bootstrap)

        def send(batch: range) -> None:
            now = datetime.now(UTC)
            for i in batch:
                cmd = open_case(i)
                p.send(CASE_COMMANDS.name(namespace), key=cmd.case_id.encode(), value=command_bytes(cmd))
                job = sms_job(i)
                p.send(SMS_JOBS.name(namespace), key=job.recipient_id.encode(),
                       value=job_event(job, correlationid=None, time=now).to_bytes())
            assert p.flush() == 2 * len(batch)

        def cases() -> int:
            with engine.connect() as conn:
                return conn.scalar(select(func.count()).select_from(MandatoryReportCase))

        def at_sandbox() -> Counter:
            return Counter(m["status_callback"].partition("job=")[2] for m in sms_sandbox.messages())

        send(range(1, N + 1))
        def stored(n: int) -> None:
            assert (cases(), len(at_sandbox())) == (n, n), f"cases and SMS at the sandbox, waiting for {n} of each"

        wait_for(lambda: stored(N), timeout=90, every=0.2)  # the first batch, before the outage

        before = retries("case-consumer"), retries("sms-dispatch")
        pg.halt()
        send(range(N + 1, 2 * N + 1))  # arrives while the database is down
        def both_waiting() -> None:
            assert (retries("case-consumer") > before[0], retries("sms-dispatch") > before[1]) == (True, True), \
                "both workers meet the outage and wait"

        wait_for(both_waiting, timeout=60, every=0.2)
        assert all(t.is_alive() for t in threads), "a worker exited during the outage"
        pg.start()
        wait_for(lambda: stored(2 * N), timeout=120, every=0.2)  # both workers resumed

        assert all(t.is_alive() for t in threads)
        sent = at_sandbox()
        assert set(sent) == {job_marker(sms_job(i).dedup_key) for i in range(1, 2 * N + 1)}, "no job skipped"
        assert max(sent.values()) == 1, f"doubled: {[k for k, n in sent.items() if n > 1]}"
        with engine.connect() as conn:
            reports = Counter(conn.execute(select(MandatoryReportCase.report_id)).scalars())
            ledger = Counter(conn.execute(select(SmsLedgerEntry.state)).scalars())
        assert len(reports) == 2 * N and max(reports.values()) == 1, "one case per report"
        assert ledger == {"accepted": 2 * N}
        engine.dispose()
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        if threads:
            dispatch.close()
        pg.stop()
