"""Exactly once under faults: a 3,000-recipient fan-out while the dispatcher (a real subprocess) is
SIGKILLed and restarted, and the sandbox fails 20% of sends with 500/429 and loses the response of 5%
after accepting them. Every recipient gets exactly one message: duplicates and misses are counted.

Sized for a 2-core CI machine: at 20,000 recipients the dispatcher got through 4,400-6,000 in the 400 s
budget on this machine under load (about 11-15 SMS/s with four kills and a faulty provider); the kills land
mid-batch at either size. Throughput is measured by `ops/bench/sms_dispatch_bench.py`, not here."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from alerts.sandbox import FaultPlan, FaultRule, SmsSandbox
from consumers.directory.bulk_load import load_generated
from consumers.sms.ledger import SmsLedger
from consumers.store.db import make_engine
from consumers.store.directory import Guardian
from contracts.clock import SystemClock
from ops.bootstrap import build_fanout
from ops.settings import Settings
from ops.topics_admin import apply_topics
from tests.databases import fresh_postgres_database
from tests.integration.helpers import publish
from tests.sms_servers import alert_event

pytestmark = [pytest.mark.integration, pytest.mark.postgres]
RECIPIENTS = 3_000
KILLS = 4


@pytest.mark.timeout(600)
def test_dispatcher_killed_repeatedly_under_provider_faults_sends_each_message_exactly_once(
        kafka_bootstrap, namespace, postgres_url, tmp_path):
    db_url = fresh_postgres_database(postgres_url)
    engine = make_engine(db_url)
    load_generated(engine, schools=1, guardians=RECIPIENTS)
    with engine.connect() as conn:
        everyone = set(conn.execute(select(Guardian.phone)).scalars())
    assert len(everyone) == RECIPIENTS
    faults = FaultPlan([FaultRule("server_error", rate=0.10), FaultRule("rate_limited", rate=0.111),
                        FaultRule("response_lost", rate=0.05 / 0.8)], seed=11)  # 20% refused, 5% of all lost
    sandbox = SmsSandbox(faults=faults, step_seconds=0.01, callback_retries=0).start()
    apply_topics(kafka_bootstrap, namespace)
    env = dict(os.environ, CHILDSAFE_BOOTSTRAP_SERVERS=kafka_bootstrap, CHILDSAFE_TOPIC_NAMESPACE=namespace,
               CHILDSAFE_DATABASE_URL=db_url, CHILDSAFE_TWILIO_BASE_URL=sandbox.url,
               CHILDSAFE_TWILIO_ACCOUNT_SID=sandbox.account_sid, CHILDSAFE_TWILIO_AUTH_TOKEN=sandbox.auth_token,
               CHILDSAFE_SMS_CALLBACK_BASE_URL="http://127.0.0.1:9", CHILDSAFE_SMS_LEASE_S="4",
               CHILDSAFE_SMS_RECONCILE_DELAY_S="0.3", CHILDSAFE_SMS_RETRY_BASE_S="0.2", CHILDSAFE_SMS_RETRY_CAP_S="2",
               CHILDSAFE_SMS_RETRY_MAX_ATTEMPTS="60", CHILDSAFE_TWILIO_TIMEOUT_S="2", CHILDSAFE_SMS_RATE_PER_S="100000",
               CHILDSAFE_SMS_CONSUMER_SESSION_TIMEOUT_MS="6000", CHILDSAFE_SMS_DISPATCH_CONCURRENCY="8")
    log = (tmp_path / "dispatch.log").open("wb")

    def start() -> subprocess.Popen:
        return subprocess.Popen([str(Path(sys.executable).parent / "childsafe"), "sms", "dispatch"], env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=db_url)
    publish(kafka_bootstrap, namespace, alert_event("CHAOS-1", "SCH00000"))
    dispatcher = start()
    fanout = build_fanout(settings, threading.Event())
    ledger = SmsLedger(engine, SystemClock())
    rng = random.Random(5)
    kills = 0
    try:
        while not fanout.results:
            fanout.poll_once()
        assert fanout.results[0].emitted == RECIPIENTS
        fanout.consumer.close()
        deadline = time.monotonic() + 400
        while time.monotonic() < deadline:
            time.sleep(rng.uniform(3, 7) if kills < KILLS else 2)
            assert dispatcher.poll() is None, (tmp_path / "dispatch.log").read_text()[-3000:]
            if kills < KILLS:
                dispatcher.send_signal(signal.SIGKILL)  # mid-batch: claims without sids, lost sends, no commit
                dispatcher.wait()
                kills += 1
                dispatcher = start()
                continue
            counts = ledger.counts("CHAOS-1")
            if counts.get("accepted", 0) + counts.get("failed", 0) >= RECIPIENTS:
                break
    finally:
        dispatcher.send_signal(signal.SIGTERM)
        try:
            dispatcher.wait(20)
        except subprocess.TimeoutExpired:
            dispatcher.kill()
        sandbox.stop()
    per_number = Counter(m["to"] for m in sandbox.messages())
    duplicates = {to: n for to, n in per_number.items() if n > 1}
    misses = everyone - set(per_number)
    outcomes = sandbox.outcomes()
    print(f"\nkills={kills} ledger={ledger.counts('CHAOS-1')} sandbox outcomes={outcomes} "
          f"messages={sum(per_number.values())} duplicates={len(duplicates)} misses={len(misses)}")
    assert kills == KILLS
    assert sum(outcomes.get(k, 0) for k in ("server_error", "rate_limited")) > 0.15 * RECIPIENTS
    assert outcomes.get("response_lost", 0) > 0.03 * RECIPIENTS
    assert duplicates == {}
    assert misses == set()
    assert ledger.counts("CHAOS-1") == {"accepted": RECIPIENTS}
