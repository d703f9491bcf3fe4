"""The fan-out's Kafka loop: read AlertRequested, fan out, commit only after every job is acknowledged."""

from __future__ import annotations

import logging
import threading

from alerts.errors import AlertsError
from consumers.directory.audience import UnsupportedAudience
from consumers.sms.fanout import AudienceFanout, FanoutResult
from consumers.kafka_io import DeadLetters, commit_after
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.topics import ALERTS_REQUESTED

log = logging.getLogger("childsafe.sms.fanout")


class FanoutWorker:
    def __init__(self, consumer, fanout: AudienceFanout, dead_letters: DeadLetters):
        self.consumer, self.fanout, self.dead_letters = consumer, fanout, dead_letters
        self.results: list[FanoutResult] = []

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.poll_once()

    def poll_once(self, timeout_ms: int = 500) -> int:
        batch = self.consumer.poll(timeout_ms=timeout_ms, max_records=1)
        handled = 0
        for records in batch.values():
            for record in records:
                self.handle(record)
                commit_after(self.consumer, record)
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
        self.dead_letters.passed()
        log.info("fanned out alert %s: %d jobs", result.alert_id, result.emitted)
        self.results.append(result)
