"""The intake's Kafka-backed parts on a real broker: the idempotency ledger shared by workers and surviving
restarts, and /health that follows the broker (on a throwaway broker of its own, stopped under it)."""

from __future__ import annotations

import asyncio
import time

import pytest

from ops.kafka_local import LocalKafka, free_port
from streams.idempotency import KafkaIdempotencyLedger, body_hash
from streams.writer import KafkaWriter

pytestmark = pytest.mark.integration


async def _ledger(bootstrap: str, namespace: str, name: str):
    writer = KafkaWriter(bootstrap, namespace, client_id=f"{namespace}-{name}")
    ledger = KafkaIdempotencyLedger(bootstrap, f"{namespace}-streams-intake-idempotency", writer, retention_s=3600,
                                    replication=1, min_insync=1)
    await ledger.start()
    return ledger, writer


async def _close(*pairs):
    for ledger, writer in pairs:
        await ledger.close()
        await writer.close()


async def test_two_workers_share_keys_and_a_restart_keeps_them(kafka_bootstrap, namespace):
    a, b = await _ledger(kafka_bootstrap, namespace, "a"), await _ledger(kafka_bootstrap, namespace, "b")
    fall, assault = body_hash(b'{"category": "fall"}'), body_hash(b'{"category": "sexual_assault"}')
    try:
        first = await a[0].claim("tok1", "k-1", fall)
        assert not first.conflict and first.answer is None
        answer = {"id": "tok1.k-1", "topic": "t", "partition": 0, "offset": 7}
        await a[0].settle("tok1", "k-1", fall, answer)
        assert (await b[0].claim("tok1", "k-1", assault)).conflict, "another worker must see the claim"
        assert (await b[0].claim("tok2", "k-1", assault)).conflict is False, "keys are per client"
    finally:
        await _close(a, b)
    restarted = await _ledger(kafka_bootstrap, namespace, "c")
    try:
        again = await restarted[0].claim("tok1", "k-1", fall)
        assert again.answer == answer, "the original 202 survives a restart"
        assert (await restarted[0].claim("tok1", "k-1", assault)).conflict
    finally:
        await _close(restarted)


async def test_racing_claims_for_one_key_have_one_winner(kafka_bootstrap, namespace):
    workers = [await _ledger(kafka_bootstrap, namespace, f"w{i}") for i in range(3)]
    try:
        bodies = [body_hash(f"body {i}".encode()) for i in range(3)]
        claims = await asyncio.gather(*(w.claim("tok", "race", h) for (w, _), h in zip(workers, bodies, strict=True)))
        assert sum(not c.conflict for c in claims) == 1
    finally:
        await _close(*workers)


async def test_health_is_false_once_the_broker_is_gone(tmp_path):
    broker = LocalKafka(run_dir=tmp_path / "kafka", port=free_port(), controller_port=free_port())
    writer = KafkaWriter(broker.bootstrap, "health", client_id="health-probe")
    try:
        broker.up(timeout=180)  # inside the try: a broker that came up late is stopped too
        assert await writer.reachable()
        broker.down()
        deadline = time.monotonic() + 60
        while await writer.reachable():
            assert time.monotonic() < deadline, "still healthy a minute after the broker stopped"
            await asyncio.sleep(0.2)
    finally:
        await writer.close()
        broker.down()
