"""The fan-out's Kafka loop: read AlertRequested, fan out, commit only after every job is acknowledged."""

from __future__ import annotations

import logging

from alerts.errors import AlertsError
from consumers.directory.audience import UnsupportedAudience
from consumers.kafka_io import DeadLetters, ProduceFailed, commit_tolerantly
from consumers.outage import OutageGuard, Stopped
from consumers.sms.fanout import AudienceFanout, FanoutResult
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.produce_errors import is_non_retryable_produce_error
from contracts.topics import ALERTS_REQUESTED

log = logging.getLogger("childsafe.sms.fanout")


class FanoutWorker:
    def __init__(self, consumer, fanout: AudienceFanout, dead_letters: DeadLetters, guard: OutageGuard):
        self.consumer, self.fanout, self.dead_letters = consumer, fanout, dead_letters
        self.guard = guard
        self.results: list[FanoutResult] = []

    def run(self) -> None:
        """Poll until the guard's stop event is set (it also cuts an outage wait short)."""
        try:
            while not self.guard.stop.is_set():
                self.poll_once()
        except Stopped:
            log.info("stopped while waiting out an outage; the alert in hand was not committed")

    def poll_once(self, timeout_ms: int = 500) -> int:
        batch = self.guard.run(lambda: self.consumer.poll(timeout_ms=timeout_ms, max_records=1),
                               "polling alert requests")  # kafka-python raises from poll while a broker is down
        handled = 0
        for records in batch.values():
            for record in records:
                # an outage: the same alert again after a wait (it resumes from its saved page); then commit
                self.guard.run(lambda r=record: self.handle(r), "fanning out an alert")
                commit_tolerantly(self.guard, self.consumer, record)
                handled += 1
        return handled

    def handle(self, record) -> None:
        try:
            event = decode(record.value, ALERTS_REQUESTED)
        except ContractError as exc:
            self.dead_letters.reject(record, f"not a valid alert request: {exc}", exc.errors)
            return
        try:
            result = self.fanout.fan_out(event)
        except UnsupportedAudience as exc:
            self.dead_letters.reject(record, str(exc))
            return
        except AlertsError as exc:  # a template parameter or a body rule refused the message
            self.dead_letters.reject(record, f"alert {event.data.alert_id} refused before sending: {exc}")
            return
        except ProduceFailed as exc:
            if not is_non_retryable_produce_error(exc):
                raise  # Kafka unavailable: the outage guard waits and fans this alert out again
            self.dead_letters.reject(record, f"alert {event.data.alert_id}: Kafka refused its jobs for what they are "
                                             f"({type(exc.__cause__).__name__}); not retryable")
            return
        self.dead_letters.passed()
        log.info("fanned out alert %s: %d jobs", result.alert_id, result.emitted)
        self.results.append(result)
