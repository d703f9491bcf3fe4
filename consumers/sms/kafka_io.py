"""Kafka plumbing for the SMS workers: an acknowledged job sink, dead letters, and offset commits."""

from __future__ import annotations

import logging
import threading

from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition

from consumers.sms.errors import ProduceFailed
from contracts.clock import Clock
from contracts.deadletter import DeadLettered
from contracts.errors import FieldError
from contracts.events import DeadLetteredEvent
from contracts.topics import DEADLETTER

log = logging.getLogger("childsafe.sms.kafka")


def make_producer(bootstrap: str, **extra) -> KafkaProducer:
    """acks=all and idempotence: a job is on every in-sync replica before we count it as sent."""
    options = dict(acks="all", enable_idempotence=True, linger_ms=20, batch_size=256 * 1024,
                   compression_type=None, max_in_flight_requests_per_connection=5)
    options.update(extra)
    return KafkaProducer(bootstrap_servers=bootstrap, **options)


def make_consumer(bootstrap: str, topic: str, group: str, **extra) -> KafkaConsumer:
    options = dict(group_id=group, enable_auto_commit=False, auto_offset_reset="earliest")
    options.update(extra)
    return KafkaConsumer(topic, bootstrap_servers=bootstrap, **options)


class KafkaJobSink:
    """Sends keyed values to one topic; ``flush`` raises ProduceFailed if any send was not acknowledged."""

    def __init__(self, producer: KafkaProducer, topic: str):
        self.producer, self.topic = producer, topic
        self._errors: list[BaseException] = []
        self._lock = threading.Lock()

    def send(self, key: bytes, value: bytes) -> None:
        self.producer.send(self.topic, key=key, value=value).add_errback(self._failed)

    def _failed(self, exc: BaseException) -> None:
        with self._lock:
            self._errors.append(exc)

    def flush(self) -> None:
        self.producer.flush()
        with self._lock:
            errors, self._errors = self._errors, []
        if errors:
            raise ProduceFailed(f"{len(errors)} job(s) not acknowledged by Kafka on {self.topic}: {errors[0]!r}") \
                from errors[0]


class DeadLetters:
    """Rejected input goes to the dead-letter topic byte-exact, with the reason, before its offset is committed."""

    def __init__(self, producer: KafkaProducer, namespace: str, rejected_by: str, clock: Clock):
        self.sink = KafkaJobSink(producer, DEADLETTER.name(namespace))
        self.rejected_by, self.clock = rejected_by, clock

    def reject(self, record, reason: str, errors: list[FieldError] = ()) -> None:
        payload = DeadLettered.of(topic=record.topic, partition=record.partition, offset=record.offset,
                                  key=record.key, value=record.value, errors=list(errors), reason=reason,
                                  rejected_by=self.rejected_by, rejected_at=self.clock.now())
        event = DeadLetteredEvent.new(payload, source=f"/consumers/{self.rejected_by}", subject=record.topic)
        self.sink.send(record.topic.encode(), event.to_bytes())
        self.sink.flush()


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
