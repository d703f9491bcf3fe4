"""Kafka plumbing of every consumer worker: the one acknowledged producer, dead letters, offset commits.

``AcknowledgedProducer`` is the single wrapper around kafka-python's producer (acks=all, idempotent):
the case outbox, the SMS fan-out and dispatcher, the directory's reference topics and their dead letters
all send through it, and ``flush`` raises ``ProduceFailed`` unless the broker acknowledged every send.
(The streams worker runs on Faust's asyncio loop and writes through its async twin, streams/writer.py.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from contracts.clock import Clock
from contracts.dlq import DeadLetterLimit, DeadLetterWindow, count_dead_letters, dead_letter_event, reason_class
from contracts.errors import ChildSafeError, FieldError
from contracts.topics import DEADLETTER

log = logging.getLogger("childsafe.consumers.kafka")
PRODUCER_OPTIONS = dict(acks="all", enable_idempotence=True, linger_ms=20, batch_size=256 * 1024,
                        compression_type=None, max_in_flight_requests_per_connection=5)


class ProduceFailed(ChildSafeError):
    """Kafka did not acknowledge what was sent: the input's offset was not committed, so it is handled again on
    restart (every output carries a deterministic id or dedup key, so repeats are harmless). Check the broker."""


class AcknowledgedProducer:
    """acks=all and idempotence: a record is on every in-sync replica before ``flush`` returns."""

    def __init__(self, bootstrap: str, client_id: str = "childsafe", **extra):
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, client_id=client_id,
                                      **{**PRODUCER_OPTIONS, **extra})
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        self.producer.send(topic, key=key, value=value).add_errback(self._failed)

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def flush(self) -> None:
        """Return once every record sent so far is acknowledged; raise ProduceFailed otherwise."""
        self.producer.flush()
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise ProduceFailed(f"{len(errors)} record(s) not acknowledged by Kafka: {errors[0]!r}") from errors[0]

    def to(self, topic: str) -> TopicSink:
        return TopicSink(self, topic)

    def close(self) -> None:
        self.producer.close()


class TopicSink:
    """Keyed values to one topic through an ``AcknowledgedProducer`` (the fan-out's and directory's sink port)."""

    def __init__(self, producer: AcknowledgedProducer, topic: str):
        self.producer, self.topic = producer, topic

    def send(self, key: bytes, value: bytes) -> None:
        self.producer.send(self.topic, key, value)

    def flush(self) -> None:
        self.producer.flush()


def make_consumer(bootstrap: str, topics: str | Sequence[str], group: str, **extra) -> KafkaConsumer:
    """Every worker's group consumer (offsets committed by the worker, from the earliest record of a new group).

    It reads the cluster's partitions of its topics before it first polls. kafka-python 3.0.12 otherwise joins the
    group before its metadata arrives, and the leader, assigning from empty metadata, can keep the empty assignment:
    in 25 rounds of tests/integration/test_consumer_assignment.py's loop, 13 left one of three fresh consumers with
    no partition after 15 s (in CI, a dispatcher: an alert reached no one); with the partitions read first, none."""
    names = [topics] if isinstance(topics, str) else list(topics)
    options = dict(group_id=group, enable_auto_commit=False, auto_offset_reset="earliest")
    options.update(extra)
    consumer = KafkaConsumer(*names, bootstrap_servers=bootstrap, **options)
    for name in names:
        consumer.partitions_for_topic(name)
    return consumer


class DeadLetters:
    """A consumer worker's dead letters under the one policy (contracts/dlq.py): the limit is checked first, then
    the record goes to the dead-letter topic byte-exact and acknowledged, then it is counted; all before the
    caller commits the offset. Workers call ``passed`` for every message they handled."""

    def __init__(self, producer: AcknowledgedProducer, namespace: str, rejected_by: str, clock: Clock,
                 limit: DeadLetterLimit):
        self.producer, self.topic = producer, DEADLETTER.name(namespace)
        self.rejected_by, self.clock = rejected_by, clock
        self.window = DeadLetterWindow(limit, rejected_by)

    def passed(self, n: int = 1) -> None:
        self.window.record_all([False] * n)

    def reject(self, record, reason: str, errors: Sequence[FieldError] = ()) -> None:
        self.window.record(True)  # raises DeadLetterLimitExceeded before anything is written or committed
        event = dead_letter_event(topic=record.topic, partition=record.partition, offset=record.offset,
                                  key=record.key, value=record.value, errors=list(errors), reason=reason,
                                  rejected_by=self.rejected_by, now=self.clock.now())
        self.producer.send(self.topic, record.topic.encode(), event.to_bytes())
        self.producer.flush()
        count_dead_letters(self.rejected_by, [(record.topic, reason_class(list(errors)))])


def commit_after(consumer: KafkaConsumer, record) -> None:
    """Commit the offset after ``record``: called only once its effect is durable."""
    consumer.commit({TopicPartition(record.topic, record.partition): OffsetAndMetadata(record.offset + 1, "", -1)})


def commit_tolerantly(guard, consumer: KafkaConsumer, record=None) -> None:
    """Commit after ``record`` (or everything polled), waiting out a broker outage. A commit refused because the
    partitions moved to another consumer is harmless: the new owner redoes that work, which is idempotent."""
    work = (lambda: commit_after(consumer, record)) if record is not None else consumer.commit
    try:
        guard.run(work, "committing offsets")
    except KafkaError as exc:
        log.warning("offset commit refused (%s); the partitions' new owner redoes this work harmlessly",
                    type(exc).__name__)
