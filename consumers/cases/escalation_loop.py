"""The escalation worker's loop: tick the escalation runner, publish what the outbox holds, and anchor the audit
chain head on the audit topic now and then. Built by ops/bootstrap.py (`build_escalation_loop`)."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kafka.errors import KafkaError

from consumers.cases.anchor import AuditAnchor
from consumers.cases.escalation import EscalationRunner
from consumers.cases.outbox import OutboxRelay
from consumers.kafka_io import ProduceFailed
from consumers.metrics import AUDIT_ANCHORED, CASE_ESCALATIONS, CASE_OUTBOX_PUBLISHED
from consumers.outage import OutageGuard, Stopped, dependency_of
from contracts.clock import Clock

log = logging.getLogger(__name__)


@dataclass
class EscalationLoop:
    """Every `tick_s`: escalate missed duties (one transaction, retried whole after an outage) and publish the
    outbox; every `anchor_s` (and on the first tick): anchor the audit chain head."""

    runner: EscalationRunner
    relay: OutboxRelay
    anchor: AuditAnchor
    guard: OutageGuard
    clock: Clock
    tick_s: float
    anchor_s: float

    def _anchor(self) -> int | None:
        """Anchors published, or None when the broker refused them (the next tick retries)."""
        try:
            return self.anchor.publish()
        except (KafkaError, ProduceFailed) as exc:
            log.warning("audit anchor publish failed (%r); will retry", exc)
            return None

    def run(self, stop: threading.Event, once: bool = False) -> None:
        next_anchor = self.clock.monotonic()
        try:
            while True:
                if self.clock.monotonic() >= next_anchor:
                    # reads the chain head from the database: a database outage waits like the tick below; a
                    # broker that refuses the anchor only postpones it (escalations must not wait for Kafka)
                    published = self.guard.run(self._anchor, "audit anchor")
                    if published is not None:
                        AUDIT_ANCHORED.inc(published)
                        next_anchor = self.clock.monotonic() + self.anchor_s
                fired = self.guard.run(self.runner.tick, "escalation tick")
                if fired:
                    log.info("escalated %d missed duties", len(fired))
                for escalation in fired:
                    CASE_ESCALATIONS.labels(escalation.duty, str(escalation.level)).inc()
                try:
                    CASE_OUTBOX_PUBLISHED.inc(self.relay.publish_pending())
                except Exception as exc:  # the outbox keeps them; the next tick retries
                    if dependency_of(exc) is None and not isinstance(exc, (KafkaError, ProduceFailed)):
                        raise
                    log.warning("outbox publish failed (%s); will retry; are the topics applied?", type(exc).__name__)
                if once or stop.wait(self.tick_s):
                    return
        except Stopped:
            log.info("escalation stopped while waiting out an outage")
