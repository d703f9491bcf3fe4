"""Benchmark: the Faust triage worker against raw aiokafka loops over the same reports, in one run.

    .venv/bin/python ops/bench/triage_throughput.py [--reports 20000] [--rounds 3] [--bootstrap HOST:PORT]

Both sides read the same number of pre-produced reports from their own copy of the incident topic.
- raw-forward: consume → json.loads → produce one message → commit (the orientation baseline).
- raw-triage:  consume → decode contract → route() → produce every output, acks=all → commit
               (the same work as the agent, without Faust).
- faust:       `childsafe worker` (subprocess), measured from its first to its last audit record.
- faust-nometrics: the same worker with CHILDSAFE_METRICS_ENABLED=false (what the Prometheus metrics cost):
      .venv/bin/python ops/bench/triage_throughput.py --contenders faust,faust-nometrics
Rates use the producer timestamps of the output records (first to last), so start-up is excluded;
the contenders run interleaved for several rounds and the medians are compared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from contracts.codec import decode  # noqa: E402
from contracts.topics import AUDIT, INCIDENTS  # noqa: E402
from ops.kafka_local import LocalKafka, free_port  # noqa: E402
from ops.topics_admin import apply_topics  # noqa: E402
from streams.triage import route  # noqa: E402
from tests.factories import incident_bytes  # noqa: E402


def produce_reports(bootstrap: str, topic: str, n: int) -> None:
    p = KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
                      batch_size=512 * 1024)
    for i in range(n):
        p.send(topic, key=f"SCH-310115-{i % 500:04d}".encode(), value=incident_bytes(id=f"b{i:07d}"))
    p.flush()
    p.close()


def output_span(bootstrap: str, topic: str, expected: int, timeout: float) -> tuple[int, float]:
    """(records, seconds between first and last record's timestamp) once ``expected`` records exist."""
    c = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=50 * 1024 * 1024)
    tps = [TopicPartition(topic, p) for p in sorted(c.partitions_for_topic(topic) or [])]
    c.assign(tps)
    c.seek_to_beginning(*tps)
    count, first, last = 0, None, None
    deadline = time.monotonic() + timeout
    while count < expected and time.monotonic() < deadline:
        for batch in c.poll(timeout_ms=500, max_records=50_000).values():
            for r in batch:
                count += 1
                first = r.timestamp if first is None else min(first, r.timestamp)
                last = r.timestamp if last is None else max(last, r.timestamp)
    c.close()
    return count, ((last - first) / 1000.0 if count > 1 else float("nan"))


async def raw_loop(bootstrap: str, namespace: str, n: int, full_triage: bool) -> None:
    src = INCIDENTS.name(namespace)
    consumer = AIOKafkaConsumer(src, bootstrap_servers=bootstrap, group_id=f"{namespace}-raw",
                                enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=2000)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
                                max_batch_size=256 * 1024)
    await consumer.start()
    await producer.start()
    seen = 0
    try:
        while seen < n:
            batches = await consumer.getmany(timeout_ms=500, max_records=2000)
            futures = []
            for records in batches.values():
                for r in records:
                    if full_triage:
                        event = decode(r.value, INCIDENTS)
                        for o in route(event, event.time):
                            futures.append(await producer.send(o.topic.name(namespace), o.value, key=o.key))
                    else:
                        body = json.loads(r.value)
                        futures.append(await producer.send(AUDIT.name(namespace), r.value, key=body["id"].encode()))
                    seen += 1
            if futures:
                await asyncio.gather(*futures)
                await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()


def run_faust(bootstrap: str, namespace: str, n: int, run_dir: Path, metrics: bool = True) -> None:
    env = {**os.environ, "CHILDSAFE_METRICS_ENABLED": str(metrics).lower(), "CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap,
           "CHILDSAFE_TOPIC_NAMESPACE": namespace, "CHILDSAFE_INTAKE_INSECURE_LOCAL": "true",  # loopback, no HTTP used
           "CHILDSAFE_WEB_PORT": str(free_port()), "CHILDSAFE_RUN_DIR": str(run_dir)}
    env.update({k: v for k, v in os.environ.items() if k.startswith("CHILDSAFE_BENCH_")})
    log = open(run_dir / f"{namespace}.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "ops", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        count, _ = output_span(bootstrap, AUDIT.name(namespace), n, timeout=600)
        if count < n:
            raise RuntimeError(f"faust routed only {count}/{n}; see {run_dir}")
    finally:
        proc.terminate()
        proc.wait(30)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reports", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--bootstrap", default=os.environ.get("CHILDSAFE_BENCH_BOOTSTRAP"))
    ap.add_argument("--contenders", default="raw-forward,raw-triage,faust",
                    help="comma-separated: raw-forward, raw-triage, faust, faust-nometrics")
    args = ap.parse_args()
    run_dir = Path(tempfile.mkdtemp(prefix="childsafe-bench-"))
    broker = None
    if not args.bootstrap:
        broker = LocalKafka(run_dir=run_dir / "kafka", port=free_port(), controller_port=free_port())
        broker.up()
        args.bootstrap = broker.bootstrap
    try:
        n = args.reports
        rates: dict[str, list[int]] = {name: [] for name in args.contenders.split(",")}
        for round_ in range(1, args.rounds + 1):
            for name in rates:  # interleaved, so background load hits every contender alike
                ns = f"bench{uuid.uuid4().hex[:6]}"
                apply_topics(args.bootstrap, ns)
                produce_reports(args.bootstrap, INCIDENTS.name(ns), n)
                if name.startswith("faust"):
                    run_faust(args.bootstrap, ns, n, run_dir, metrics=name == "faust")
                else:
                    asyncio.run(raw_loop(args.bootstrap, ns, n, full_triage=name == "raw-triage"))
                count, span = output_span(args.bootstrap, AUDIT.name(ns), n, timeout=120)
                rates[name].append(round(count / span))
                print(f"round {round_} {name}: {count} reports in {span:.2f}s = {rates[name][-1]}/s", flush=True)
        median = {name: statistics.median(r) for name, r in rates.items()}
        print("median reports/s", json.dumps(median))
        pairs = {"faust_vs_raw_forward": ("faust", "raw-forward"), "faust_vs_raw_triage": ("faust", "raw-triage"),
                 "faust_with_vs_without_metrics": ("faust", "faust-nometrics")}
        print("ratios", json.dumps({label: round(median[a] / median[b], 3) for label, (a, b) in pairs.items()
                                    if a in median and b in median}))
    finally:
        if broker:
            broker.down()


if __name__ == "__main__":
    main()
