"""The one Kafka writer of a streams worker: acks=all, idempotent, started on first use.

Faust's own producer is idempotent only inside transactions, so intake and agents write through this.

A producer whose idempotence state broke (``OutOfOrderSequenceNumber`` after a broker crash: aiokafka 0.14
has already numbered the batches behind a failed one, so every later batch of that partition is out of order
too), or that got no acknowledgement within ``ack_timeout_s`` (an idempotent aiokafka producer retries a batch
forever), is replaced by a new one (a new producer id) inside ``write``: closed within ``close_timeout_s``,
its unfinished sends abandoned, logged and counted (``childsafe_streams_producers_replaced_total``).
``write_durably`` gives up after ``max_new_producers`` replacements in a row and stops the worker (exit 75),
before its input is acknowledged, so the supervisor restarts it from the last commit.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from contracts.errors import ChildSafeError
from contracts.produce_errors import is_non_retryable_produce_error, needs_new_producer
from streams.metrics import PRODUCERS_REPLACED, WRITE_RETRIES, WRITE_RETRY_SECONDS
from streams.output import Output

log = logging.getLogger("childsafe.streams.writer")
EXIT_PRODUCER_BROKEN = 75  # EX_TEMPFAIL: the supervisor restarts the worker


class ProducerStuck(ChildSafeError):
    """The broker did not acknowledge a write in time; the producer was replaced, the write may be redone."""


class KafkaWriter:
    def __init__(self, bootstrap: str, namespace: str, client_id: str, *, ack_timeout_s: float = 60.0,
                 close_timeout_s: float = 5.0, producer_factory: Callable[[], AIOKafkaProducer] | None = None):
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.client_id = client_id
        self.ack_timeout_s = ack_timeout_s
        self.close_timeout_s = close_timeout_s
        self.replaced = 0  # producers thrown away (broken or stuck) since start
        self._factory = producer_factory or self._new_producer
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, client_id=self.client_id, acks="all",
            enable_idempotence=True, linger_ms=2, max_batch_size=256 * 1024,
            request_timeout_ms=15_000,
        )

    async def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            async with self._lock:
                if self._producer is None:
                    producer = self._factory()
                    try:  # bounded: an idempotent producer's start waits for a producer id as long as it takes
                        await asyncio.wait_for(producer.start(), self.ack_timeout_s)
                    except BaseException:
                        await producer.stop()  # a failed or cancelled start must not leak its connections
                        raise
                    self._producer = producer
        return self._producer

    async def write(self, outputs: Iterable[Output]) -> list[RecordMetadata]:
        """Send all outputs and wait until the broker acknowledged every one (raises if any failed). A broken or
        stuck producer is replaced before the error is raised: sending the same outputs again may succeed."""
        producer = await self.producer()
        try:
            futures = [await producer.send(o.topic if isinstance(o.topic, str) else o.topic.name(self.namespace),
                                           o.value, key=o.key, partition=o.partition,
                                           timestamp_ms=o.timestamp_ms) for o in outputs]
            if not futures:
                return []
            _, pending = await asyncio.wait(futures, timeout=self.ack_timeout_s)
            if pending:
                raise ProducerStuck(f"{len(pending)} of {len(futures)} records not acknowledged within "
                                    f"{self.ack_timeout_s:g}s")
            return [f.result() for f in futures]
        except Exception as exc:
            if isinstance(exc, ProducerStuck) or needs_new_producer(exc):
                await self._replace(producer, exc)
            raise

    async def _replace(self, broken: AIOKafkaProducer, why: BaseException) -> None:
        """Throw ``broken`` away unless a concurrent write already did (then its successor is kept)."""
        async with self._lock:
            if self._producer is not broken:
                return
            self._producer = None
            self.replaced += 1
        PRODUCERS_REPLACED.inc()
        log.warning("replacing the Kafka producer (%s: %s); replacement %d since start", type(why).__name__,
                    str(why)[:200], self.replaced)
        await _close_bounded(broken, self.close_timeout_s)

    async def reachable(self, timeout_s: float = 10.0) -> bool:
        """True only if a broker answered a metadata request just now (not merely once, at start)."""
        try:
            producer = await self.producer()  # its own request timeout bounds a start against a dead broker
            await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
            return True
        except Exception:
            return False

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def reset(self) -> None:
        """Drop the producer (its idempotence state is broken); the next write starts a new one."""
        producer = self._producer
        if producer is not None:
            await self._replace(producer, ChildSafeError("reset asked for"))


async def _close_bounded(producer: AIOKafkaProducer, timeout_s: float) -> None:
    """``stop()`` flushes first, and an idempotent producer retries a batch forever: past ``timeout_s`` its
    sender task is cancelled and its connections closed, abandoning what it had not delivered (the caller
    sends those outputs again with the new producer; consumers deduplicate)."""
    try:
        await asyncio.wait_for(producer.stop(), timeout_s)
        return
    except Exception as exc:  # it is being thrown away: only say so
        log.warning("closing the replaced producer did not finish (%s); abandoning its unsent records",
                    type(exc).__name__)
    sender = getattr(getattr(producer, "_sender", None), "sender_task", None)
    if sender is not None and not sender.done():
        sender.cancel()
    client = getattr(producer, "client", None)
    if client is not None:
        try:
            await asyncio.wait_for(client.close(), timeout_s)
        except Exception as exc:
            log.warning("closing the replaced producer's connections failed (%s)", type(exc).__name__)


class OutputRefused(ChildSafeError):
    """The broker refused an output for what it is (too large, unknown topic, not allowed): sending it again
    cannot help. The input was not acknowledged; fix the output (or the topic config) before restarting."""


class ProducerBroken(ChildSafeError):
    """New producers kept failing the same way: the worker stops (before acking) and is restarted."""


def is_state(output: Output) -> bool:
    """A table's changelog record (the agent's memory of what it has done), as opposed to an effect."""
    return isinstance(output.topic, str) and output.topic.endswith("-changelog")


def stop_for_broken_producer(exc: ProducerBroken) -> None:
    """Exit at once, before the batch is acked: nothing is committed past it; the supervisor restarts us."""
    log.critical("%s", exc)
    os._exit(EXIT_PRODUCER_BROKEN)


async def write_durably(writer, outputs: list[Output], max_delay_s: float = 10.0, *, max_new_producers: int = 5,
                        on_broken: Callable[[ProducerBroken], None] = stop_for_broken_producer) -> None:
    """Retry until the broker acknowledged every output: callers ack their input only after this returns.
    Effects are written first and table state (changelog records, ``is_state``) only after they were
    acknowledged: a crash in between redoes the input (at least once; consumers deduplicate) instead of
    remembering it as done with its effects lost.
    A retryable failure (broker down, leader moving) waits with capped backoff, logged and counted; a
    non-retryable one (``contracts.produce_errors``) raises ``OutputRefused`` instead of stalling forever;
    ``max_new_producers`` producer replacements in a row (``KafkaWriter.write``) end in ``on_broken``."""
    effects = [o for o in outputs if not is_state(o)]
    state = [o for o in outputs if is_state(o)]
    for part in (effects, state):
        if part:
            await _write_retrying(writer, part, max_delay_s, max_new_producers, on_broken)


async def _write_retrying(writer, outputs: list[Output], max_delay_s: float, max_new_producers: int,
                          on_broken: Callable[[ProducerBroken], None]) -> None:
    delay, attempt, new_producers = 0.2, 0, 0
    while True:
        try:
            await writer.write(outputs)
            return
        except Exception as exc:
            if is_non_retryable_produce_error(exc):
                sizes = sorted((len(o.value or b"") for o in outputs), reverse=True)[:3]
                raise OutputRefused(f"Kafka refused {len(outputs)} outputs ({type(exc).__name__}; largest values "
                                    f"{sizes} bytes): not retryable") from exc
            attempt += 1
            fresh = isinstance(exc, ProducerStuck) or needs_new_producer(exc)
            new_producers = new_producers + 1 if fresh else 0
            if new_producers > max_new_producers:
                on_broken(ProducerBroken(f"{new_producers} new Kafka producers in a row failed ({type(exc).__name__}); "
                                         f"stopping the worker before acknowledging its input"))
                raise ProducerBroken(f"gave up after {new_producers} new producers") from exc
            log.warning("writing %d outputs failed (%s); retrying in %.1fs (attempt %d)%s", len(outputs),
                        type(exc).__name__, delay, attempt, " with a new producer" if fresh else "")
            WRITE_RETRIES.inc()
            WRITE_RETRY_SECONDS.inc(delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
