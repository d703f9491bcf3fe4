"""Idempotency keys per client, with the hash of the body they were first used with.

The same key with the same body answers the original 202 again; the same key with another body is a
conflict (409), never a silently swallowed report. Keys are scoped by the client (the token id), so
two clients never collide.

`KafkaIdempotencyLedger` keeps the claims on a compacted Kafka topic that every intake worker reads
whole (like a Faust GlobalTable, but with read-your-own-write): a worker writes its claim, waits until
it has read its own record back, and the first claim in the partition's log wins. So the state
survives restarts and is shared by any number of workers, and no table partition has to be routed to
its owner. The topic is replicated like the catalogue's (``replication``: 3 with ``min.insync.replicas`` 2 on a
three-broker cluster), so one broker's death leaves every partition a leader; the reader task outlives broker
outages (a failed fetch is logged, counted and retried with a capped back-off), is restarted if it ever dies, and a
claim that cannot be read back in time is an error (503 at the door, the client retries), never a hang.
`MemoryIdempotencyLedger` is the same port in memory, for tests of the door itself.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from dataclasses import dataclass

from contracts.errors import ChildSafeError
from streams.metrics import LEDGER_READER_ERRORS, LEDGER_READER_WAIT_SECONDS
from streams.output import Output

log = logging.getLogger("childsafe.intake")


@dataclass(frozen=True)
class Claim:
    """What a key already means: nothing yet (`fresh`), this body (`mine`, maybe with its answer) or another."""

    conflict: bool = False
    answer: dict | None = None


def ledger_key(client: str, key: str) -> str:
    return hashlib.sha256(f"{client}\0{key}".encode()).hexdigest()


def body_hash(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


class MemoryIdempotencyLedger:
    """One process's claims: for tests of the door (the Kafka ledger shares the rules, `_merge`)."""

    def __init__(self):
        self.records: dict[str, dict] = {}

    async def claim(self, client: str, key: str, digest: str) -> Claim:
        k = ledger_key(client, key)
        self.records[k] = _merge(self.records.get(k), {"hash": digest})
        return _verdict(self.records[k], digest)

    async def settle(self, client: str, key: str, digest: str, answer: dict) -> None:
        k = ledger_key(client, key)
        self.records[k] = _merge(self.records.get(k), {"hash": digest, "answer": answer})


def _merge(current: dict | None, record: dict | None) -> dict | None:
    """First claim wins: a record for another body never replaces it; an answer for the same body completes it."""
    if record is None:
        return None  # tombstone
    if current is None:
        return record
    if current["hash"] != record["hash"]:
        return current
    return record if record.get("answer") else current


def _verdict(winner: dict, digest: str) -> Claim:
    if winner["hash"] != digest:
        return Claim(conflict=True)
    return Claim(answer=winner.get("answer"))


class LedgerUnavailable(ChildSafeError):
    """The ledger could not confirm a claim in time (its reader is behind or the broker is away): retry later."""


class KafkaIdempotencyLedger:
    """Claims on a compacted topic, read whole by every worker; see the module docstring."""

    PARTITIONS = 3

    def __init__(self, bootstrap: str, topic: str, writer, retention_s: float, read_timeout_s: float = 10.0, *,
                 replication: int, min_insync: int, backoff_cap_s: float = 5.0):
        self.bootstrap, self.topic, self.writer = bootstrap, topic, writer
        self.retention_s, self.read_timeout_s = retention_s, read_timeout_s
        self.replication, self.min_insync, self.backoff_cap_s = replication, min_insync, backoff_cap_s
        self.reader_errors = 0  # failed reads since start (each resumed after a back-off)
        self.reader_restarts = 0  # reader tasks that died and were started again
        self.records: dict[str, dict] = {}
        self._positions: dict[int, int] = {}
        self._ends: dict[int, int] = {}
        self._fetched = False  # a fetch succeeded since the reader last failed
        self._consumer = None
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._lock = asyncio.Lock()
        self._progress = asyncio.Condition()

    async def start(self) -> None:
        async with self._lock:
            if self._consumer is not None:
                return
            from aiokafka import AIOKafkaConsumer, TopicPartition

            await self._create_topic()
            consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False,
                                        auto_offset_reset="earliest", client_id=f"{self.topic}-reader")
            await consumer.start()
            parts = [TopicPartition(self.topic, p) for p in range(self.PARTITIONS)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            ends = await consumer.end_offsets(parts)
            self._consumer = consumer
            self._ends = {tp.partition: end for tp, end in ends.items()}
            self._task = asyncio.ensure_future(self._read(self._ends))
        await asyncio.wait_for(self._ready.wait(), timeout=60)

    def _ensure_reader(self) -> None:
        """A reader task that ended (it never should: `_read` retries every error) is started again, said and counted."""
        task = self._task
        if task is None or not task.done() or self._consumer is None:
            return
        why = "cancelled" if task.cancelled() else repr(task.exception())
        self.reader_restarts += 1
        LEDGER_READER_ERRORS.inc()
        log.error("idempotency ledger reader had stopped (%s); restarting it (restart %d)", why[:200],
                  self.reader_restarts)
        self._task = asyncio.ensure_future(self._read(self._ends))

    async def _create_topic(self) -> None:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic
        from aiokafka.errors import TopicAlreadyExistsError

        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            configs = {"cleanup.policy": "compact,delete", "retention.ms": str(int(self.retention_s * 1000)),
                       "min.insync.replicas": str(self.min_insync), "unclean.leader.election.enable": "false"}
            result = await admin.create_topics([NewTopic(self.topic, self.PARTITIONS, self.replication,
                                                         topic_configs=configs)])
            for _, code, *_ in getattr(result, "topic_errors", []) or []:
                if code not in (0, TopicAlreadyExistsError.errno):
                    log.warning("idempotency topic create answered error code %s", code)
        except TopicAlreadyExistsError:
            pass
        finally:
            await admin.close()

    async def _read(self, ends: dict[int, int]) -> None:
        """Read the topic forever; a failed fetch (broker down, leader moving) waits a capped back-off and resumes
        from where it was (the records and positions read so far are kept)."""
        delay = 0.2
        while True:
            self._fetched = False
            try:
                await self._read_forever(ends)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self._fetched:  # it had recovered since the last failure: a new outage starts the back-off anew
                    delay = 0.2
                self.reader_errors += 1
                LEDGER_READER_ERRORS.inc()
                LEDGER_READER_WAIT_SECONDS.inc(delay)
                log.warning("idempotency ledger reader failed (%s: %s); resuming in %.1fs (error %d)",
                            type(exc).__name__, str(exc)[:200], delay, self.reader_errors)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_cap_s)

    async def _read_forever(self, ends: dict[int, int]) -> None:
        if all(self._reached(p, end) for p, end in ends.items()):
            self._ready.set()
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            self._fetched = True
            async with self._progress:
                for tp, records in batches.items():
                    for rec in records:
                        k = rec.key.decode()
                        merged = _merge(self.records.get(k), json.loads(rec.value) if rec.value else None)
                        if merged is None:
                            self.records.pop(k, None)
                        else:
                            self.records[k] = merged
                        self._positions[tp.partition] = rec.offset + 1
                for tp in self._consumer.assignment():  # an empty or compacted tail still moves the position
                    self._positions[tp.partition] = max(self._positions.get(tp.partition, 0),
                                                        await self._consumer.position(tp))
                self._progress.notify_all()
            if not self._ready.is_set() and all(self._reached(p, end) for p, end in ends.items()):
                self._ready.set()

    def _reached(self, partition: int, offset: int) -> bool:
        return self._positions.get(partition, 0) >= offset

    async def _write(self, k: str, record: dict):
        [meta] = await self.writer.write([Output(self.topic, k.encode(), json.dumps(record).encode())])
        return meta

    async def _read_back(self, meta) -> None:
        try:
            async with self._progress:
                await asyncio.wait_for(self._progress.wait_for(lambda: self._reached(meta.partition, meta.offset + 1)),
                                       timeout=self.read_timeout_s)
        except TimeoutError:
            raise LedgerUnavailable(f"claim at {meta.partition}/{meta.offset} not read back within "
                                    f"{self.read_timeout_s:g}s (reader at {dict(self._positions)}, "
                                    f"{self.reader_errors} reader errors)") from None

    async def claim(self, client: str, key: str, digest: str) -> Claim:
        await self.start()
        self._ensure_reader()
        k = ledger_key(client, key)
        current = self.records.get(k)
        if current is not None:
            return _verdict(current, digest)
        await self._read_back(await self._write(k, {"hash": digest}))
        winner = self.records[k]
        if winner["hash"] != digest:  # another worker claimed it first: keep the winner last in the log,
            await self._write(k, winner)  # so compaction cannot leave our losing claim as the survivor
        return _verdict(winner, digest)

    async def settle(self, client: str, key: str, digest: str, answer: dict) -> None:
        k = ledger_key(client, key)
        record = {"hash": digest, "answer": answer}
        await self._write(k, record)
        self.records[k] = _merge(self.records.get(k), record)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
