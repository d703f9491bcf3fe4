"""Composition root of the case workflow: builds its engine, Kafka clients and services from Settings."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from consumers.cases.clocks import ClockPolicy
from consumers.cases.consumer import CaseCommandConsumer
from consumers.cases.opening import CaseOpener, CaseTopics
from consumers.cases.outbox import OutboxRelay
from consumers.kafka_io import AcknowledgedProducer, ProduceFailed
from consumers.metrics import AUDIT_ANCHORED, CASE_ESCALATIONS, CASE_OUTBOX_PUBLISHED
from consumers.outage import OutageGuard, Stopped, dependency_of
from consumers.store.db import make_engine, session_factory
from contracts.clock import Clock, SystemClock
from contracts.dlq import DeadLetterWindow
from contracts.topics import ALERTS_REQUESTED, AUDIT, CASE_COMMANDS, DEADLETTER
from ops.bootstrap import deadletter_limit
from ops.identity import field_keyring
from ops.settings import Settings

log = logging.getLogger(__name__)


def clock_policy(settings: Settings) -> ClockPolicy:
    return ClockPolicy(forward=timedelta(minutes=settings.case_forward_minutes),
                       acknowledge=timedelta(minutes=settings.case_acknowledge_minutes),
                       assign_high_risk=timedelta(minutes=settings.case_assign_high_risk_minutes),
                       assign_other=timedelta(minutes=settings.case_assign_other_minutes),
                       bullying_close=timedelta(days=settings.case_bullying_close_days),
                       escalation_step=timedelta(minutes=settings.case_escalation_step_minutes))


def case_topics(settings: Settings) -> CaseTopics:
    ns = settings.topic_namespace
    return CaseTopics(alerts=ALERTS_REQUESTED.name(ns), deadletter=DEADLETTER.name(ns))


class KafkaAnchorLog:
    """The audit chain's anchors on the audit topic: written acks=all (idempotent), read back from the one
    partition their key hashes to (murmur2, as every Kafka client's default partitioner)."""

    def __init__(self, bootstrap: str, topic: str, publisher: AcknowledgedProducer | None = None):
        from consumers.cases.anchor import KEY

        self.bootstrap, self.topic, self.key = bootstrap, topic, KEY
        self.publisher = publisher or AcknowledgedProducer(bootstrap, "childsafe-audit-anchor")
        self._own_publisher = publisher is None

    def append(self, values) -> None:
        for value in values:
            self.publisher.send(self.topic, self.key, value)
        self.publisher.flush()

    def read(self) -> list[bytes]:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                 client_id="childsafe-audit-anchor")
        try:
            partitions = sorted(consumer.partitions_for_topic(self.topic) or ())
            if not partitions:
                raise KafkaError(f"topic {self.topic} not found: run `childsafe topics apply`")
            tp = TopicPartition(self.topic, partitions[(murmur2(self.key) & 0x7FFFFFFF) % len(partitions)])
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            end = consumer.end_offsets([tp])[tp]
            values: list[bytes] = []
            while consumer.position(tp) < end:
                for batch in consumer.poll(timeout_ms=1000).values():
                    values.extend(r.value for r in batch if r.key == self.key)
            return values
        finally:
            consumer.close()

    def close(self) -> None:
        if self._own_publisher:
            self.publisher.close()


def audit_anchor(settings: Settings, runtime: "CaseRuntime", publisher: AcknowledgedProducer | None = None):
    from consumers.cases.anchor import AuditAnchor

    log_ = KafkaAnchorLog(settings.bootstrap_servers, AUDIT.name(settings.topic_namespace), publisher)
    return AuditAnchor(runtime.factory, runtime.clock, log_), log_


@dataclass
class CaseRuntime:
    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock
    policy: ClockPolicy
    topics: CaseTopics

    @classmethod
    def build(cls, settings: Settings, clock: Clock | None = None) -> "CaseRuntime":
        engine = make_engine(settings.db_url())
        return cls(engine, session_factory(engine), clock or SystemClock(), clock_policy(settings),
                   case_topics(settings))


def build_case_consumer(settings: Settings, runtime: CaseRuntime, publisher: AcknowledgedProducer,
                        stop: threading.Event | None = None) -> CaseCommandConsumer:
    kafka = KafkaConsumer(CASE_COMMANDS.name(settings.topic_namespace), bootstrap_servers=settings.bootstrap_servers,
                          group_id=f"{settings.topic_namespace}.cases", enable_auto_commit=False,
                          auto_offset_reset="earliest", max_poll_records=settings.case_batch,
                          session_timeout_ms=settings.case_session_timeout_ms,
                          heartbeat_interval_ms=max(1000, settings.case_session_timeout_ms // 3),
                          client_id="childsafe-cases")
    relay = OutboxRelay(runtime.factory, publisher, runtime.clock, runtime.policy)
    opener = CaseOpener(runtime.policy, runtime.topics, field_keyring(settings))  # the vault opens sealed fields
    return CaseCommandConsumer(kafka, opener, relay, runtime.factory,
                               runtime.clock, DeadLetterWindow(deadletter_limit(settings), "case-consumer"),
                               max_records=settings.case_batch, guard=OutageGuard("case-consumer", stop=stop))


def case_publisher(settings: Settings) -> AcknowledgedProducer:
    """The outbox's port onto Kafka."""
    return AcknowledgedProducer(settings.bootstrap_servers, "childsafe-cases", linger_ms=5)


def run_case_consumer(settings: Settings, stop: threading.Event, clock: Clock | None = None) -> None:
    """Run the case consumer until `stop` is set (the lead's in-process entry point and `childsafe cases consume`)."""
    runtime = CaseRuntime.build(settings, clock)
    publisher = case_publisher(settings)
    try:
        build_case_consumer(settings, runtime, publisher, stop).run(stop)
    finally:
        publisher.close()
        runtime.engine.dispose()


def run_escalation(settings: Settings, stop: threading.Event, once: bool = False, clock: Clock | None = None) -> None:
    """Tick the escalation runner every `case_tick_seconds` and publish what it queued; anchor the audit
    chain head on the audit topic every `audit_anchor_seconds` (and on the first tick)."""
    from consumers.cases.escalation import EscalationRunner

    runtime = CaseRuntime.build(settings, clock)
    publisher = case_publisher(settings)
    runner = EscalationRunner(runtime.factory, runtime.clock, runtime.policy, runtime.topics.alerts)
    relay = OutboxRelay(runtime.factory, publisher, runtime.clock, runtime.policy)
    guard = OutageGuard("escalation", stop=stop)
    anchor, _ = audit_anchor(settings, runtime, publisher)
    next_anchor = runtime.clock.monotonic()
    try:
        while True:
            if runtime.clock.monotonic() >= next_anchor:
                try:  # reads the chain head from the database: an outage waits like the tick below
                    AUDIT_ANCHORED.inc(guard.run(anchor.publish, "audit anchor"))
                    next_anchor = runtime.clock.monotonic() + settings.audit_anchor_seconds
                except (KafkaError, ProduceFailed) as exc:  # not anchored yet: the next tick retries
                    log.warning("audit anchor publish failed (%r); will retry", exc)
            fired = guard.run(runner.tick, "escalation tick")  # one transaction: retried whole after an outage
            if fired:
                log.info("escalated %d missed duties", len(fired))
            for escalation in fired:
                CASE_ESCALATIONS.labels(escalation.duty, str(escalation.level)).inc()
            try:
                CASE_OUTBOX_PUBLISHED.inc(relay.publish_pending())
            except Exception as exc:  # the outbox keeps them; the next tick retries
                if dependency_of(exc) is None and not isinstance(exc, (KafkaError, ProduceFailed)):
                    raise
                log.warning("outbox publish failed (%s); will retry; are the topics applied?", type(exc).__name__)
            if once or stop.wait(settings.case_tick_seconds):
                return
    except Stopped:
        log.info("escalation stopped while waiting out an outage")
    finally:
        publisher.close()
        runtime.engine.dispose()
