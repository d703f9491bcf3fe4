"""The one Kafka writer of a streams worker: acks=all, idempotent, started on first use.

Faust's own producer is idempotent only inside transactions, so intake and agents write through this.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaProducer
from aiokafka.structs import RecordMetadata

from contracts.errors import ChildSafeError
from contracts.produce_errors import is_non_retryable_produce_error, needs_new_producer
from streams.metrics import WRITE_RETRIES, WRITE_RETRY_SECONDS
from streams.output import Output

log = logging.getLogger("childsafe.streams.writer")


class KafkaWriter:
    def __init__(self, bootstrap: str, namespace: str, client_id: str):
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.client_id = client_id
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def producer(self) -> AIOKafkaProducer:
        if self._producer is None:
            async with self._lock:
                if self._producer is None:
                    producer = AIOKafkaProducer(
                        bootstrap_servers=self.bootstrap, client_id=self.client_id, acks="all",
                        enable_idempotence=True, linger_ms=2, max_batch_size=256 * 1024,
                        request_timeout_ms=15_000,
                    )
                    try:
                        await producer.start()
                    except BaseException:
                        await producer.stop()  # a failed or cancelled start must not leak its connections
                        raise
                    self._producer = producer
        return self._producer

    async def write(self, outputs: Iterable[Output]) -> list[RecordMetadata]:
        """Send all outputs and wait until the broker acknowledged every one (raises if any failed)."""
        producer = await self.producer()
        futures = [await producer.send(o.topic if isinstance(o.topic, str) else o.topic.name(self.namespace),
                                       o.value, key=o.key, partition=o.partition,
                                       timestamp_ms=o.timestamp_ms) for o in outputs]
        return list(await asyncio.gather(*futures))

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
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                await producer.stop()
            except Exception as exc:  # it is being thrown away: only say so
                log.warning("closing the broken producer failed (%s)", type(exc).__name__)


class OutputRefused(ChildSafeError):
    """The broker refused an output for what it is (too large, unknown topic, not allowed): sending it again
    cannot help. The input was not acknowledged; fix the output (or the topic config) before restarting."""


async def write_durably(writer, outputs: list[Output], max_delay_s: float = 10.0) -> None:
    """Retry until the broker acknowledged every output: callers ack their input only after this returns.
    A retryable failure (broker down, leader moving) waits with capped backoff, logged and counted; a
    non-retryable one (``contracts.produce_errors``) raises ``OutputRefused`` instead of stalling forever."""
    delay, attempt = 0.2, 0
    while outputs:
        try:
            await writer.write(outputs)
            return
        except Exception as exc:
            if is_non_retryable_produce_error(exc):
                sizes = sorted((len(o.value or b"") for o in outputs), reverse=True)[:3]
                raise OutputRefused(f"Kafka refused {len(outputs)} outputs ({type(exc).__name__}; largest values "
                                    f"{sizes} bytes): not retryable") from exc
            attempt += 1
            fresh = needs_new_producer(exc) and hasattr(writer, "reset")
            if fresh:  # e.g. OutOfOrderSequenceNumber after a broker crash: this producer can never send again
                await writer.reset()
            log.warning("writing %d outputs failed (%s); retrying in %.1fs (attempt %d)%s", len(outputs),
                        type(exc).__name__, delay, attempt, " with a new producer" if fresh else "")
            WRITE_RETRIES.inc()
            WRITE_RETRY_SECONDS.inc(delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay_s)
