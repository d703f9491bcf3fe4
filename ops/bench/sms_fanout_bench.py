"""Fan-out benchmark: jobs/s of the SMS fan-out against a raw kafka-python producer writing the same number
of same-sized messages to the same topic, and the fan-out's peak memory (max RSS of a child process).

    .venv/bin/python ops/bench/sms_fanout_bench.py --guardians 100000          # throughput pair
    .venv/bin/python ops/bench/sms_fanout_bench.py --guardians 500000 --memory  # + peak RSS at 50k and 500k

Starts its own local Kafka (or uses CHILDSAFE_BENCH_BOOTSTRAP) and a SQLite directory of one school.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _directory(folder: Path, guardians: int) -> str:
    from consumers.directory.bulk_load import load_generated
    from consumers.store.db import make_engine
    from consumers.store.migrate import upgrade

    url = f"sqlite:///{folder / f'dir-{guardians}.db'}"
    if not (folder / f"dir-{guardians}.db").exists():
        upgrade(url)
        load_generated(make_engine(url), schools=1, guardians=guardians)
    return url


def fan_out_once(bootstrap: str, db_url: str, namespace: str) -> dict:
    """One alert to the whole school; returns jobs, seconds and this process's peak RSS."""
    from consumers.kafka_io import AcknowledgedProducer
    from consumers.sms.fanout import AudienceFanout
    from consumers.store.db import make_engine
    from contracts.clock import SystemClock
    from contracts.events import AlertRequestedEvent
    from contracts.topics import SMS_JOBS

    producer = AcknowledgedProducer(bootstrap, "childsafe-bench")
    sink = producer.to(SMS_JOBS.name(namespace))
    alert = bench_alert(f"BENCH-{uuid.uuid4().hex[:8]}")
    started = time.perf_counter()
    result = AudienceFanout(make_engine(db_url), sink, SystemClock()).fan_out(
        AlertRequestedEvent.new(alert, source="/bench"))
    seconds = time.perf_counter() - started
    producer.close()
    return {"jobs": result.emitted, "seconds": round(seconds, 2), "jobs_per_s": round(result.emitted / seconds),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def raw_producer(bootstrap: str, namespace: str, count: int, size: int) -> dict:
    from kafka import KafkaProducer

    from contracts.topics import SMS_JOBS

    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                             batch_size=256 * 1024)
    value, topic = b"x" * size, SMS_JOBS.name(namespace)
    started = time.perf_counter()
    for i in range(count):
        producer.send(topic, key=f"g:G{i:07d}".encode(), value=value)
    producer.flush()
    seconds = time.perf_counter() - started
    producer.close()
    return {"messages": count, "seconds": round(seconds, 2), "messages_per_s": round(count / seconds)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guardians", type=int, default=100_000)
    parser.add_argument("--memory", action="store_true", help="also peak RSS of a fan-out at 1/10 and full size")
    parser.add_argument("--child", nargs=3, metavar=("BOOTSTRAP", "DB_URL", "NAMESPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(fan_out_once(*args.child)))
        return 0
    from ops.kafka_local import LocalKafka, free_port
    from ops.topics_admin import apply_topics

    work = Path(tempfile.mkdtemp(prefix="sms-bench-"))
    broker = None
    bootstrap = os.environ.get("CHILDSAFE_BENCH_BOOTSTRAP")
    if not bootstrap:
        broker = LocalKafka(run_dir=work / "kafka", port=free_port(), controller_port=free_port())
        broker.up(timeout=90)
        bootstrap = broker.bootstrap
    try:
        namespace = f"b{uuid.uuid4().hex[:8]}"
        apply_topics(bootstrap, namespace)
        db_url = _directory(work, args.guardians)
        fan = fan_out_once(bootstrap, db_url, namespace)
        raw = raw_producer(bootstrap, namespace, fan["jobs"], _job_size())
        report = {"fanout": fan, "raw_producer": raw, "ratio": round(fan["jobs_per_s"] / raw["messages_per_s"], 2)}
        if args.memory:
            small = max(1000, args.guardians // 10)
            report["peak_rss"] = {}
            for n in (small, args.guardians):
                url = _directory(work, n)
                out = subprocess.run([sys.executable, __file__, "--child", bootstrap, url, namespace],
                                     capture_output=True, text=True, check=True)
                report["peak_rss"][n] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(report, indent=2))
    finally:
        if broker:
            broker.down()
    return 0


def bench_alert(alert_id: str):
    """A school-wide emergency to every guardian of the bench school (the parameters its template requires)."""
    from contracts.alert_request import AlertRequested

    return AlertRequested(alert_id=alert_id, kind="incident_emergency", priority="emergency",
                          audience={"kind": "school_guardians", "school_id": "SCH00000"},
                          params={"school": "测试学校", "category": "fire"}, source_event_id="bench", reason="bench")


def _job_size() -> int:
    from alerts.body_rules import BodyRules
    from consumers.directory.audience import Recipient
    from consumers.sms.compose import AlertBodies
    from consumers.sms.fanout import build_job
    from consumers.sms.jobs import job_event
    from contracts.clock import SystemClock

    alert = bench_alert("BENCH-size")
    job = build_job(alert, Recipient("g:G0000001", "+8619950000001", "zh-CN"), AlertBodies(alert, BodyRules()))
    return len(job_event(job, correlationid="x" * 32, time=SystemClock().now()).to_bytes())


if __name__ == "__main__":
    sys.exit(main())
