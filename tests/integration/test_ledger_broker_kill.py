"""The intake's idempotency ledger and the streams worker's own topics ride out a broker's SIGKILL on a
three-node cluster (issue 11, the full fault profile).

Before: the streams worker created the ledger topic and every Faust changelog with replication 1, so the
partitions on a killed broker had no leader. The intake answered 503 for every key on them until the broker was
back, and the agents, whose table writes landed there, stopped: 279 of 600 accepted reports were never routed
(docs/benchmarks.md). Now the composition root replicates them like the catalogue (3, min.insync 2) and a broker
kill only moves leaders.

It starts its own three KRaft nodes on free ports (never the shared broker) and stops them after."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest

from ops.bootstrap import build_streams
from ops.kafka_local import LocalKafkaCluster
from ops.settings import Settings
from streams.idempotency import body_hash
from streams.writer import KafkaWriter

pytestmark = pytest.mark.integration


async def _claim_retrying(ledger, client: str, key: str, digest: str, deadline_s: float):
    """As the door's client does: a refused claim (503) is sent again with the same key until the deadline."""
    deadline, errors = time.monotonic() + deadline_s, []
    while True:
        try:
            return await ledger.claim(client, key, digest)
        except Exception as exc:
            errors.append(type(exc).__name__)
            if time.monotonic() > deadline:
                raise AssertionError(f"{key}: never claimed within {deadline_s:g}s ({errors[-5:]})") from exc
            await asyncio.sleep(0.5)


@pytest.fixture()
def cluster(tmp_path):
    cluster = LocalKafkaCluster.on_free_ports(tmp_path / "kafka", 3, heap="256m")
    cluster.up(timeout=300)
    try:
        yield cluster
    finally:
        cluster.down()


async def test_the_ledger_and_the_changelogs_ride_out_a_broker_kill(cluster, tmp_path):
    settings = Settings(bootstrap_servers=cluster.bootstrap, topic_namespace=f"ledgerkill{uuid.uuid4().hex[:6]}",
                        run_dir=tmp_path / "run")
    writer = KafkaWriter(cluster.bootstrap, settings.topic_namespace, client_id="ledger-kill-test", ack_timeout_s=20)
    runtime = build_streams(settings, writer=writer)
    assert runtime.app.conf.topic_replication_factor == 3  # every changelog Faust creates
    ledger = runtime.door.ledger
    try:
        before = [f"before-{i}" for i in range(6)]
        for key in before:
            assert (await _claim_retrying(ledger, "client-a", key, body_hash(key.encode()), 60)).answer is None

        cluster.nodes[1].kill()  # SIGKILL; some ledger partition led or followed by it
        during = [f"during-{i}" for i in range(18)]  # spread over all three partitions
        for key in during:
            claim = await _claim_retrying(ledger, "client-a", key, body_hash(key.encode()), 90)
            assert not claim.conflict
        # the claims were read back: the same key with another body is a conflict, never a second report
        for key in during[:6]:
            assert (await _claim_retrying(ledger, "client-a", key, body_hash(b"other body"), 30)).conflict

        ledger._task.cancel()  # a reader that dies anyway is noticed and started again by the next claim
        await asyncio.sleep(0)
        restarts = ledger.reader_restarts
        assert not (await _claim_retrying(ledger, "client-a", "after-cancel", body_hash(b"x"), 60)).conflict
        assert ledger.reader_restarts == restarts + 1

        cluster.nodes[1].start()
        fresh = build_streams(settings, writer=writer).door.ledger  # a new reader finds every claim in the log
        try:
            for key in before + during:
                assert (await _claim_retrying(fresh, "client-a", key, body_hash(key.encode()), 60)).conflict is False
                assert (await _claim_retrying(fresh, "client-a", key, body_hash(b"other body"), 60)).conflict
        finally:
            await fresh.close()
    finally:
        await ledger.close()
        await writer.close()
