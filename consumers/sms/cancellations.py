"""The consumer of ``alerts.cancelled.v1``: each cancellation recorded durably, then its offset committed.

It runs inside the dispatcher process (``childsafe sms dispatch``, consumer group
``<namespace>.sms-cancellations``), polled at the start of every dispatch round, so a cancellation is in the
database before the next batch of jobs is claimed. See ``cancellation_book`` for what recording does.
"""

from __future__ import annotations

import logging

from consumers.kafka_io import DeadLetters, commit_tolerantly
from consumers.outage import OutageGuard
from consumers.sms.cancellation_book import CancellationBook
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.topics import ALERTS_CANCELLED

log = logging.getLogger("childsafe.sms.cancellations")


class CancellationConsumer:
    """Reads ``alerts.cancelled.v1``; commits each record's offset only after it is recorded (or dead-lettered)."""

    def __init__(self, consumer, book: CancellationBook, dead_letters: DeadLetters, guard: OutageGuard):
        self.consumer, self.book, self.dead_letters = consumer, book, dead_letters
        self.guard = guard

    def poll_once(self, timeout_ms: int = 20, max_records: int = 500) -> int:
        batch = self.guard.run(lambda: self.consumer.poll(timeout_ms=timeout_ms, max_records=max_records),
                               "polling cancellations")  # kafka-python raises from poll while a broker is down
        recorded = 0
        for records in batch.values():
            good, last = [], None
            for record in records:
                try:
                    good.append(decode(record.value, ALERTS_CANCELLED).data)
                except ContractError as exc:
                    self.guard.run(lambda r=record, e=exc: self.dead_letters.reject(
                        r, f"not a valid alert cancellation: {e}", e.errors), "dead-lettering a cancellation")
                last = record
            self.dead_letters.passed(len(good))
            stopped = self.guard.run(lambda g=good: self.book.record(g), "recording cancellations")
            if good:
                log.info("recorded %d cancellation(s) (%s); %d waiting message(s) stopped",
                         len(good), ", ".join(c.alert_id for c in good[:5]), stopped)
            commit_tolerantly(self.guard, self.consumer, last)
            recorded += len(good)
        return recorded
