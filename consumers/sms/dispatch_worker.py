"""The dispatcher's Kafka loop: jobs in, ledger claims, sends; offsets committed once the ledger holds them."""

from __future__ import annotations

import logging

from consumers.kafka_io import DeadLetters, commit_tolerantly
from consumers.outage import OutageGuard, Stopped
from consumers.sms.cancellations import CancellationConsumer
from consumers.sms.dispatcher import SmsDispatcher
from consumers.sms.fallback import GuardianFallback
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.topics import SMS_JOBS

log = logging.getLogger("childsafe.sms.dispatch")


class DispatchWorker:
    def __init__(self, consumer, dispatcher: SmsDispatcher, fallback: GuardianFallback | None,
                 dead_letters: DeadLetters, guard: OutageGuard, batch: int = 200,
                 cancellations: CancellationConsumer | None = None):
        self.consumer, self.dispatcher, self.fallback = consumer, dispatcher, fallback
        self.dead_letters, self.batch, self.cancellations = dead_letters, batch, cancellations
        self.guard = guard

    def run(self) -> None:
        """Poll until the guard's stop event is set (the composition root gives the dispatcher's and the
        cancellation consumer's guards the same event, so one signal stops all three and cuts a wait short)."""
        try:
            while not self.guard.stop.is_set():
                self.poll_once()
        except Stopped:
            log.info("stopped while waiting out an outage; the polled jobs were not committed")

    def close(self) -> None:
        self.dispatcher.close()
        self.consumer.close()
        if self.cancellations is not None:
            self.cancellations.consumer.close()

    def poll_once(self, timeout_ms: int = 200) -> int:
        """One round: cancellations, new jobs from Kafka, then due ledger work, then guardian fallbacks."""
        if self.cancellations is not None:
            self.cancellations.poll_once()
        batch = self.guard.run(lambda: self.consumer.poll(timeout_ms=timeout_ms, max_records=self.batch),
                               "polling SMS jobs")  # kafka-python raises from poll while a broker is down
        jobs = []
        for records in batch.values():
            for record in records:
                try:
                    jobs.append(decode(record.value, SMS_JOBS).data)
                except ContractError as exc:
                    self.guard.run(lambda r=record, e=exc: self.dead_letters.reject(r, f"not a valid SMS job: {e}",
                                                                                   e.errors), "dead-lettering a job")
        if batch:
            self.dead_letters.passed(len(jobs))
            # an outage: the same jobs again after a wait (claims are idempotent); committed only once claimed
            self.guard.run(lambda: self.dispatcher.dispatch(jobs), "dispatching jobs")
            commit_tolerantly(self.guard, self.consumer)  # every record of the poll is now in the ledger
        done = len(jobs) + len(self.guard.run(self.dispatcher.sweep, "sweeping due ledger rows"))
        if self.fallback is not None:
            done += self.guard.run(self.fallback.emit, "emitting guardian fall-backs")
        return done
