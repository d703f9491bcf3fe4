"""The dispatcher's Kafka loop: jobs in, ledger claims, sends; offsets committed once the ledger holds them."""

from __future__ import annotations

import logging
import threading

from consumers.sms.cancellations import CancellationConsumer
from consumers.sms.dispatcher import SmsDispatcher
from consumers.sms.fallback import GuardianFallback
from consumers.kafka_io import DeadLetters
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.topics import SMS_JOBS

log = logging.getLogger("childsafe.sms.dispatch")


class DispatchWorker:
    def __init__(self, consumer, dispatcher: SmsDispatcher, fallback: GuardianFallback | None,
                 dead_letters: DeadLetters, batch: int = 200, cancellations: CancellationConsumer | None = None):
        self.consumer, self.dispatcher, self.fallback = consumer, dispatcher, fallback
        self.dead_letters, self.batch, self.cancellations = dead_letters, batch, cancellations

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()

    def close(self) -> None:
        self.dispatcher.close()
        self.consumer.close()
        if self.cancellations is not None:
            self.cancellations.consumer.close()

    def poll_once(self, timeout_ms: int = 200) -> int:
        """One round: cancellations, new jobs from Kafka, then due ledger work, then guardian fallbacks."""
        if self.cancellations is not None:
            self.cancellations.poll_once()
        batch = self.consumer.poll(timeout_ms=timeout_ms, max_records=self.batch)
        jobs = []
        for records in batch.values():
            for record in records:
                try:
                    jobs.append(decode(record.value, SMS_JOBS).data)
                except ContractError as exc:
                    self.dead_letters.reject(record, f"not a valid SMS job: {exc}", exc.errors)
        if batch:
            self.dead_letters.passed(len(jobs))
            self.dispatcher.dispatch(jobs)
            self.consumer.commit()  # every record of the poll is now in the ledger (or dead-lettered)
        done = len(jobs) + len(self.dispatcher.sweep())
        if self.fallback is not None:
            done += self.fallback.emit()
        return done
