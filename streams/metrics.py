"""The streams worker's Prometheus metrics, declared once each, and the helpers that record them per batch.

`childsafe_deadletters_total` is declared in contracts/dlq.py (every layer counts it). Labels are bounded: a topic *suffix* from the catalogue, an outcome, a reason class, a route, a status
code. Never an event id, school id, phone number or free text. Recording is per batch (one
``inc(n)`` per label set), so the agent pays a few microseconds per batch, not per report.
"""

from __future__ import annotations

import logging
import time
from collections import Counter as Tally
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import Counter, Histogram

from contracts.dlq import count_dead_letters, topic_suffix

log = logging.getLogger("childsafe.streams")
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)

EVENTS_CONSUMED = Counter(
    "childsafe_events_consumed_total", "Messages a streams agent read, by topic suffix and outcome "
    "(routed, duplicate, deadlettered).", ["topic", "outcome"])
EVENTS_PRODUCED = Counter(
    "childsafe_events_produced_total", "Records a streams worker wrote and the broker acknowledged, by topic "
    "suffix (changelogs count as 'changelog').", ["topic"])
TRIAGE_BATCH_SECONDS = Histogram(
    "childsafe_triage_batch_duration_seconds", "One triage batch: validate and route, then write until the "
    "broker acknowledged every output.", buckets=LATENCY_BUCKETS)
ROUTING_DELAY_SECONDS = Histogram(
    "childsafe_report_routing_delay_seconds", "Report accepted (its CloudEvent time) until its outputs were "
    "acknowledged; observed once per batch for the batch's oldest report.", buckets=LATENCY_BUCKETS)
WRITE_RETRIES = Counter(
    "childsafe_streams_write_retries_total", "Times a streams agent waited and wrote the same outputs again because "
    "Kafka did not acknowledge them (an outage, a leader moving).")
WRITE_RETRY_SECONDS = Counter(
    "childsafe_streams_write_retry_seconds_total", "Seconds streams agents waited for Kafka to take their outputs.")
PRODUCERS_REPLACED = Counter(
    "childsafe_streams_producers_replaced_total", "Kafka producers a streams worker threw away and started anew "
    "(idempotence state broken, e.g. OutOfOrderSequenceNumber after a broker crash, or no acknowledgement in time).")
LEDGER_READER_ERRORS = Counter(
    "childsafe_streams_ledger_reader_errors_total", "Times the intake idempotency ledger's reader failed (broker down, "
    "leader moving) and was resumed after a back-off.")
LEDGER_READER_WAIT_SECONDS = Counter(
    "childsafe_streams_ledger_reader_wait_seconds_total", "Seconds the idempotency ledger's reader backed off.")
INTAKE_REQUESTS = Counter(
    "childsafe_intake_requests_total", "HTTP intake requests by route and status code.", ["route", "status"])
INTAKE_SECONDS = Histogram(
    "childsafe_intake_request_duration_seconds", "HTTP intake request until the answer (202 only after the "
    "broker acknowledged the write), by route.", ["route"], buckets=LATENCY_BUCKETS)


def suffix(topic: str) -> str:
    """`<namespace>.incidents.reported.v1` → `incidents.reported.v1`: bounded, whatever the namespace."""
    return topic_suffix(topic)


@dataclass
class BatchTally:
    """What one triage batch did, gathered while triaging and recorded once its outputs are acknowledged."""

    started: float
    duplicates: int = 0
    routed: int = 0
    rejected: list[str] = field(default_factory=list)  # reason classes
    oldest: datetime | None = None  # the oldest routed report's CloudEvent time
    notable: list[tuple[str, str, str]] = field(default_factory=list)  # (correlation id, event id, source)

    def routed_report(self, report, caused_work: bool) -> None:
        self.routed += 1
        if self.oldest is None or report.time < self.oldest:
            self.oldest = report.time
        if caused_work:
            self.notable.append((report.correlationid or report.id, report.id, report.source))

    def log_routed(self) -> None:
        """One INFO line per report that opened a case or asked for alerts, once durable; plain records only count."""
        for correlationid, event_id, source in self.notable:
            log.info("report routed", extra={"correlationid": correlationid, "event_id": event_id, "source": source})

    def record(self, topic: str, outputs: Iterable, acknowledged: datetime) -> None:
        """One call per batch: a handful of ``inc(n)`` calls whatever the batch size."""
        t = suffix(topic)
        if self.routed:
            EVENTS_CONSUMED.labels(t, "routed").inc(self.routed)
        if self.duplicates:
            EVENTS_CONSUMED.labels(t, "duplicate").inc(self.duplicates)
        if self.rejected:
            EVENTS_CONSUMED.labels(t, "deadlettered").inc(len(self.rejected))
            count_dead_letters("streams.triage", ((topic, reason) for reason in self.rejected))
        for out_topic, n in Tally("changelog" if isinstance(o.topic, str) else o.topic.suffix for o in outputs).items():
            EVENTS_PRODUCED.labels(out_topic).inc(n)  # str topics are Faust's internal changelogs
        TRIAGE_BATCH_SECONDS.observe(max(0.0, time.perf_counter() - self.started))
        if self.oldest is not None:
            ROUTING_DELAY_SECONDS.observe(max(0.0, (acknowledged - self.oldest).total_seconds()))


def record_agent_batch(topic: str, handled: int, rejected_by: str, letters: list[tuple[str, str]]) -> None:
    """One call per acknowledged batch of an item 18/22 agent: what it consumed and what it dead-lettered."""
    t = suffix(topic)
    if handled:
        EVENTS_CONSUMED.labels(t, "routed").inc(handled)
    if letters:
        EVENTS_CONSUMED.labels(t, "deadlettered").inc(len(letters))
        count_dead_letters(rejected_by, letters)


def record_intake(route: str, status: int, seconds: float) -> None:
    INTAKE_REQUESTS.labels(route, str(status)).inc()
    INTAKE_SECONDS.labels(route).observe(seconds)
