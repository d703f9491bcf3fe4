"""The indicator recorder: reads incidents, safety reports and recalls, stores their facts, then commits.

Facts are keyed by event id, so a replay after a crash adds nothing. A message that does not decode is
skipped here: the agent that owns its topic dead-letters it (a second dead letter would only be noise).
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session, sessionmaker

from consumers.indicators.facts import record
from consumers.kafka_io import commit_tolerantly
from consumers.outage import OutageGuard, poll_until_stopped
from consumers.store.db import transaction
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.topics import INCIDENTS, RECALLS, SAFETY_REPORTS

log = logging.getLogger(__name__)
SOURCES = (INCIDENTS, SAFETY_REPORTS, RECALLS)


def topics(namespace: str) -> list[str]:
    return [spec.name(namespace) for spec in SOURCES]


class IndicatorRecorder:
    def __init__(self, kafka_consumer, factory: sessionmaker[Session], namespace: str,
                 guard: OutageGuard, max_records: int = 500):
        self.kafka, self.factory, self.max_records = kafka_consumer, factory, max_records
        self.specs = {spec.name(namespace): spec for spec in SOURCES}
        self.guard = guard

    def poll_once(self, timeout_ms: int = 500) -> int:
        """One batch: decode, store the facts in one transaction, then commit; returns the rows added."""
        batch = self.kafka.poll(timeout_ms=timeout_ms, max_records=self.max_records)
        events = []
        for records in batch.values():
            for r in records:
                try:
                    events.append(decode(r.value, self.specs[r.topic]))
                except ContractError:
                    log.info("skipped an undecodable message (dead-lettered by its owner)",
                             extra={"topic": r.topic, "partition": r.partition, "offset": r.offset})
        if not batch:
            return 0
        added = self.guard.run(lambda: self._store(events), "storing indicator facts")
        commit_tolerantly(self.guard, self.kafka)
        return added

    def _store(self, events) -> int:
        with transaction(self.factory) as session:
            return record(session, events)

    def run(self, timeout_ms: int = 500) -> None:
        """Poll until the guard's stop event is set."""
        poll_until_stopped(self.guard, lambda: self.poll_once(timeout_ms), self.kafka)
