"""The case consumer: reads case commands, records their effects, then commits the offsets.

Effects and the processed-position row commit in one transaction; the Kafka offset is committed
only after that, and alerts leave through the outbox. A crash anywhere replays harmlessly.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from dataclasses import dataclass, field

from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from consumers.cases.opening import CaseOpener, Position
from consumers.cases.outbox import OutboxRelay
from consumers.cases.tracking import ProcessedMessage
from consumers.kafka_io import ProduceFailed
from consumers.metrics import CASE_OUTBOX_PUBLISHED, record_case_batch
from consumers.outage import OutageGuard, dependency_of, poll_until_stopped
from consumers.store.db import transaction
from contracts.clock import Clock
from contracts.dlq import DeadLetterWindow, count_dead_letters

log = logging.getLogger(__name__)


@dataclass
class BatchReport:
    outcomes: Counter = field(default_factory=Counter)
    published: int = 0


class CaseCommandConsumer:
    def __init__(self, kafka_consumer, opener: CaseOpener, relay: OutboxRelay, factory: sessionmaker[Session],
                 clock: Clock, limit: DeadLetterWindow, guard: OutageGuard, max_records: int = 200):
        self.kafka, self.opener, self.relay, self.factory, self.clock = kafka_consumer, opener, relay, factory, clock
        self.limit, self.max_records = limit, max_records
        self.guard = guard
        self.opened_reported_at: list = []  # reported_at of cases committed in the current batch (metrics)
        self.dead_lettered: list[tuple[str, str]] = []  # (topic, reason class) committed in the current batch

    def poll_once(self, timeout_ms: int = 500) -> BatchReport:
        report = BatchReport()
        # kafka-python raises from poll when the group coordinator's broker is down (a broker SIGKILL): wait it out
        batch = self.guard.run(lambda: self.kafka.poll(timeout_ms=timeout_ms, max_records=self.max_records),
                               "polling case commands")
        positions = [Position(r.topic, r.partition, r.offset, r.key, r.value)
                     for records in batch.values() for r in records]
        if positions:
            self.opened_reported_at, self.dead_lettered = [], []
            # a database outage: the same batch again after a wait; the offsets are committed only after it is stored
            outcomes = self.guard.run(lambda: self.store(positions), "storing case commands")
            report.outcomes.update(outcomes)
            count_dead_letters("case-consumer", self.dead_lettered)  # in the outbox, committed
            self.limit.record_all(o == "deadlettered" for o in outcomes)  # trips before the offsets are committed
            self._commit(positions)
            record_case_batch(outcomes, self.opened_reported_at, self.clock.now())
        try:
            report.published = self.relay.publish_pending()
            CASE_OUTBOX_PUBLISHED.inc(report.published)
        except Exception as exc:  # the outbox keeps them; the next round retries (after a wait if it was an outage)
            if dependency_of(exc) is None and not isinstance(exc, (KafkaError, ProduceFailed)):
                raise
            log.warning("outbox publish failed; will retry", extra={"error": type(exc).__name__})
            self.guard.sleep(1.0)
        return report

    def _commit(self, positions: list[Position]) -> None:
        """Stored: commit. A commit refused because the partitions moved to another consumer is harmless (it replays
        them, and the tracking rows make that a no-op); a broker outage is waited out."""
        try:
            self.guard.run(lambda: self.kafka.commit(self._offsets(positions)), "committing case command offsets")
        except KafkaError as exc:
            log.warning("offset commit refused (%s); the partitions' new owner replays these harmlessly",
                        type(exc).__name__)

    def store(self, positions: list[Position]) -> list[str]:
        """One transaction for the batch; on a conflict, one transaction per message."""
        try:
            return self._with_retry(lambda s: self._handle(s, positions))
        except IntegrityError:
            log.info("batch conflicted; storing message by message")
            return [o for p in positions for o in self._with_retry(lambda s, p=p: self._handle(s, [p]))]

    def _handle(self, session: Session, positions: list[Position]) -> list[str]:
        keys = [(p.topic, p.partition, p.offset) for p in positions]
        position = tuple_(ProcessedMessage.topic, ProcessedMessage.partition, ProcessedMessage.offset)
        found = session.execute(select(ProcessedMessage.topic, ProcessedMessage.partition, ProcessedMessage.offset)
                                .where(position.in_(keys))).all()
        done = {tuple(row) for row in found}
        now = self.clock.now()
        with session.no_autoflush:  # the batch's rows are inserted together at commit (executemany)
            return [("replayed" if (p.topic, p.partition, p.offset) in done else self.opener.handle(session, p, now))
                    for p in positions]

    def _with_retry(self, work, attempts: int = 8) -> list[str]:
        for attempt in range(attempts):
            try:
                with transaction(self.factory) as session:
                    result = work(session)
                self.opened_reported_at.extend(session.info.get("opened_reported_at", ()))  # committed
                self.dead_lettered.extend(session.info.get("dead_lettered", ()))
                return result
            except OperationalError:  # SQLite busy / PostgreSQL serialization: try again shortly
                if attempt == attempts - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    @staticmethod
    def _offsets(positions: list[Position]) -> dict[TopicPartition, OffsetAndMetadata]:
        last: dict[TopicPartition, int] = {}
        for p in positions:
            tp = TopicPartition(p.topic, p.partition)
            last[tp] = max(last.get(tp, -1), p.offset)
        return {tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in last.items()}

    def run(self, timeout_ms: int = 500) -> None:
        """Poll until the guard's stop event is set; commits what is done and closes the Kafka consumer on the way out."""
        poll_until_stopped(self.guard, lambda: self.poll_once(timeout_ms), self.kafka)
