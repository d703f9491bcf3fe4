"""The composition root: every engine, producer, consumer, app and client is built here, from Settings.

Commands parse their arguments and call one `build_*` (or `run_*`) function; each takes keyword overrides
(a clock, a producer, a Kafka consumer, …) so that tests swap a port without patching modules
(cosmicpython's `bootstrap.py`). Nothing below it picks a default collaborator on its own.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import random
import threading
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from kafka import KafkaConsumer, KafkaProducer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from alerts.body_rules import BodyRules
from alerts.policy import QuietHours
from alerts.rate_limit import TokenBucket
from alerts.twilio_gateway import TwilioGateway
from alerts.webhook_auth import WebhookVerifier
from consumers.cases.anchor import AuditAnchor
from consumers.cases.anchor_log import KafkaAnchorLog
from consumers.cases.clocks import ClockPolicy
from consumers.cases.consumer import CaseCommandConsumer
from consumers.cases.escalation import EscalationRunner
from consumers.cases.escalation_loop import EscalationLoop
from consumers.cases.missing_child import MissingChildDesk
from consumers.cases.opening import CaseOpener, CaseTopics
from consumers.cases.outbox import OutboxRelay
from consumers.kafka_io import AcknowledgedProducer, DeadLetters, TopicSink, make_consumer
from consumers.outage import OutageGuard
from consumers.sms.backoff import Backoff
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.cancellations import CancellationConsumer
from consumers.sms.dispatch_worker import DispatchWorker
from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
from consumers.sms.fallback import GuardianFallback
from consumers.sms.fanout import AudienceFanout
from consumers.sms.fanout_worker import FanoutWorker
from consumers.sms.ledger import SmsLedger
from consumers.sms.rate_slots import SharedRateLimit
from consumers.sms.status_journal import KafkaStatusJournal
from consumers.sms.webhooks import SmsWebhooks, StatusConsumer
from consumers.store.db import make_engine, session_factory
from contracts.clock import Clock, SystemClock
from contracts.dlq import DeadLetterLimit, DeadLetterWindow
from contracts.topics import (
    ALERTS_CANCELLED,
    ALERTS_REQUESTED,
    AUDIT,
    CASE_COMMANDS,
    DEADLETTER,
    EMERGENCY_ALERTS,
    REGISTRATIONS,
    SCHOOL_LOCATIONS,
    SMS_JOBS,
    SMS_STATUS,
    replication_for,
)
from ops.errors import ChildSafeOpsError
from ops.identity import field_keyring, webhook_auth_token
from ops.kafka_local import LocalKafka, LocalKafkaCluster
from ops.settings import Settings
from streams.alerting_config import AlertingConfig
from streams.config import StreamsConfig
from streams.intake_tokens import IntakeTokenBook
from streams.internal_topics import intake_idempotency

if TYPE_CHECKING:  # faust and aiohttp load only for the workers that run them (CLI start-up)
    from alerts.sandbox import FaultPlan, SmsSandbox
    from console.web import Console
    from streams.app import StreamsRuntime
    from streams.idempotency import KafkaIdempotencyLedger

# the SMS workers' consumer groups, in the topic namespace like `<ns>.cases` (sms_group)
FANOUT_GROUP = "sms-fanout"
DISPATCH_GROUP = "sms-dispatch"
CANCELLATIONS_GROUP = "sms-cancellations"
STATUS_GROUP = "sms-status"


# ---- shared ---------------------------------------------------------------------------------------------------

def build_engine(settings: Settings) -> Engine:
    """The one database engine of a process (CHILDSAFE_DATABASE_URL, else SQLite in the run folder)."""
    return make_engine(settings.db_url())


def deadletter_limit(settings: Settings) -> DeadLetterLimit:
    """The one dead-letter limit of every agent and consumer (contracts/dlq.py)."""
    return DeadLetterLimit(settings.deadletter_limit_ratio, settings.deadletter_limit_window)


def dead_letters(settings: Settings, producer: AcknowledgedProducer, worker: str, clock: Clock) -> DeadLetters:
    field_keyring(settings)  # dead letters seal their originals with the process keyring
    return DeadLetters(producer, settings.topic_namespace, worker, clock, deadletter_limit(settings))


# ---- streams worker -------------------------------------------------------------------------------------------

def alerting_config(settings: Settings) -> AlertingConfig:
    return AlertingConfig(
        drill_period_days=settings.drill_period_days, drill_check_interval_s=settings.drill_check_interval_s,
        hazard_fix_days_default=settings.hazard_fix_days_default,
        spike_kinds=settings.spike_kind_list,
        spike_window_s=settings.spike_window_hours * 3600, spike_school_threshold=settings.spike_school_threshold,
        spike_district_threshold=settings.spike_district_threshold, widening=settings.widening_steps,
        spike_school_children=settings.spike_school_children, spike_district_children=settings.spike_district_children,
        widening_tick_s=settings.missing_child_tick_s, cap_test_schools=settings.cap_test_school_list,
        cap_delegates=settings.cap_delegate_map)


def streams_config(settings: Settings) -> StreamsConfig:
    return StreamsConfig(
        bootstrap=settings.bootstrap_servers,
        namespace=settings.topic_namespace,
        data_dir=str(settings.run_dir / "streams"),
        web_host=settings.web_host,
        web_port=settings.web_port,
        max_body_bytes=settings.max_body_bytes,
        intake_tokens_file=str(settings.intake_tokens_path()),
        intake_insecure_local=settings.intake_insecure_local,  # `childsafe worker` checks intake_may_run_open first
        batch=settings.triage_batch,
        batch_within_s=settings.triage_batch_within_s,
        deadletter_limit=deadletter_limit(settings),
        dedup_retention_s=settings.dedup_retention_days * 24 * 3600.0,
        alerting=alerting_config(settings),
        metrics=settings.metrics_enabled,
        keyring=field_keyring(settings),
    )


def intake_may_run_open(settings: Settings) -> bool:
    """Closed by default: without intake tokens the worker refuses to start, unless it binds to loopback
    *and* CHILDSAFE_INTAKE_INSECURE_LOCAL is set. Returns whether the intake runs open."""
    if settings.intake_insecure_local:
        try:
            loopback = settings.web_host == "localhost" or ipaddress.ip_address(settings.web_host).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise ChildSafeOpsError(f"CHILDSAFE_INTAKE_INSECURE_LOCAL is set but CHILDSAFE_WEB_HOST={settings.web_host} is not "
                                    "a loopback address: an open intake may only listen on 127.0.0.1/::1")
        return True
    if not build_intake_token_book(settings).tokens():
        raise ChildSafeOpsError(f"no intake tokens in {settings.intake_tokens_path()}: issue one with `childsafe intake "
                                "token`, or set CHILDSAFE_INTAKE_INSECURE_LOCAL=1 for a loopback-only local run")
    return False


def build_streams(settings: Settings, *, clock: Clock | None = None, writer=None, ledger=None) -> StreamsRuntime:
    """The Faust app with every agent and the HTTP intake; the Kafka writer and idempotency ledger unless given."""
    from ops.topics_admin import cluster_brokers
    from streams.writer import KafkaWriter

    # Faust's changelogs and the idempotency ledger are replicated like the catalogue: one broker may die
    # (with replication 1 the changelog partitions on a killed broker stalled every agent: docs/benchmarks.md)
    cfg = dataclasses.replace(streams_config(settings),
                              replication=replication_for(cluster_brokers(settings.bootstrap_servers))[0])
    if writer is None:
        writer = KafkaWriter(cfg.bootstrap, cfg.namespace, client_id=f"{cfg.namespace}-streams-writer")
    if ledger is None:
        ledger = build_idempotency_ledger(settings, writer, cfg.replication)
    from streams.app import create_app

    return create_app(cfg, clock=clock or SystemClock(), writer=writer, ledger=ledger)


def build_idempotency_ledger(settings: Settings, writer, replication: int) -> KafkaIdempotencyLedger:
    """The intake's idempotency ledger on its compacted topic, replicated ``replication`` times (``replication_for``)."""
    from streams.idempotency import KafkaIdempotencyLedger

    min_insync = replication_for(replication)[1]
    return KafkaIdempotencyLedger(settings.bootstrap_servers, intake_idempotency(settings.topic_namespace), writer,
                                  retention_s=settings.dedup_retention_days * 24 * 3600.0, replication=replication,
                                  min_insync=min_insync)


def build_intake_producer(settings: Settings) -> KafkaProducer:
    """`childsafe send --kafka`: straight onto an intake topic (acks=all, idempotent)."""
    return KafkaProducer(bootstrap_servers=settings.bootstrap_servers, acks="all", enable_idempotence=True)


# ---- case workflow --------------------------------------------------------------------------------------------

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


@dataclass
class CaseRuntime:
    """What every case worker and desk shares: the engine and its sessions, the clock, the deadlines, the topics."""

    engine: Engine
    factory: sessionmaker[Session]
    clock: Clock
    policy: ClockPolicy
    topics: CaseTopics

    def close(self) -> None:
        self.engine.dispose()


def build_case_runtime(settings: Settings, *, clock: Clock | None = None) -> CaseRuntime:
    engine = build_engine(settings)
    return CaseRuntime(engine, session_factory(engine), clock or SystemClock(), clock_policy(settings),
                       case_topics(settings))


def build_case_publisher(settings: Settings) -> AcknowledgedProducer:
    """The outbox's port onto Kafka."""
    return AcknowledgedProducer(settings.bootstrap_servers, "childsafe-cases", linger_ms=5)


def outage_guard(worker: str, stop: threading.Event) -> OutageGuard:
    """A worker's outage waits (consumers/outage.py), cut short by the worker's stop event."""
    return OutageGuard(worker, stop, random.Random())


def build_case_consumer(settings: Settings, runtime: CaseRuntime, publisher: AcknowledgedProducer,
                        stop: threading.Event, *, kafka: KafkaConsumer | None = None) -> CaseCommandConsumer:
    if kafka is None:
        kafka = make_consumer(settings.bootstrap_servers, CASE_COMMANDS.name(settings.topic_namespace),
                              f"{settings.topic_namespace}.cases", max_poll_records=settings.case_batch,
                              session_timeout_ms=settings.case_session_timeout_ms,
                              heartbeat_interval_ms=max(1000, settings.case_session_timeout_ms // 3),
                              client_id="childsafe-cases")
    relay = OutboxRelay(runtime.factory, publisher, runtime.clock, runtime.policy)
    opener = CaseOpener(runtime.policy, runtime.topics, field_keyring(settings))  # the vault opens sealed fields
    return CaseCommandConsumer(kafka, opener, relay, runtime.factory,
                               runtime.clock, DeadLetterWindow(deadletter_limit(settings), "case-consumer"),
                               max_records=settings.case_batch, guard=outage_guard("case-consumer", stop))


def run_case_consumer(settings: Settings, stop: threading.Event, *, clock: Clock | None = None) -> None:
    """Run the case consumer until `stop` is set (`childsafe cases consume`, and in-process in tests)."""
    runtime = build_case_runtime(settings, clock=clock)
    publisher = build_case_publisher(settings)
    try:
        build_case_consumer(settings, runtime, publisher, stop).run()
    finally:
        publisher.close()
        runtime.close()


def build_anchor_log(settings: Settings, publisher: AcknowledgedProducer) -> KafkaAnchorLog:
    return KafkaAnchorLog(settings.bootstrap_servers, AUDIT.name(settings.topic_namespace), publisher)


def build_audit_anchor(settings: Settings, runtime: CaseRuntime, publisher: AcknowledgedProducer) -> AuditAnchor:
    return AuditAnchor(runtime.factory, runtime.clock, build_anchor_log(settings, publisher))


def build_escalation_loop(settings: Settings, runtime: CaseRuntime, publisher: AcknowledgedProducer,
                          stop: threading.Event, *, anchor: AuditAnchor | None = None) -> EscalationLoop:
    return EscalationLoop(
        runner=EscalationRunner(runtime.factory, runtime.clock, runtime.policy, runtime.topics.alerts),
        relay=OutboxRelay(runtime.factory, publisher, runtime.clock, runtime.policy),
        anchor=anchor or build_audit_anchor(settings, runtime, publisher),
        guard=outage_guard("escalation", stop), clock=runtime.clock,
        tick_s=settings.case_tick_seconds, anchor_s=settings.audit_anchor_seconds)


def run_escalation(settings: Settings, stop: threading.Event, *, once: bool = False, clock: Clock | None = None,
                   publisher: AcknowledgedProducer | None = None, anchor: AuditAnchor | None = None) -> None:
    """Tick the escalation runner every CHILDSAFE_CASE_TICK_SECONDS; anchor the audit chain head on the audit topic
    every CHILDSAFE_AUDIT_ANCHOR_SECONDS (and on the first tick)."""
    runtime = build_case_runtime(settings, clock=clock)
    publisher = publisher or build_case_publisher(settings)
    try:
        build_escalation_loop(settings, runtime, publisher, stop, anchor=anchor).run(stop, once=once)
    finally:
        publisher.close()
        runtime.close()


def build_missing_child_desk(settings: Settings, factory: sessionmaker[Session], clock: Clock) -> MissingChildDesk:
    """The desk that publishes and stops missing-child alerts (the CLI, the HTTP desk and the web console)."""
    return MissingChildDesk(factory, clock, EMERGENCY_ALERTS.name(settings.topic_namespace),
                            sender=f"cases.{settings.topic_namespace}.childsafe")


def build_case_api(settings: Settings, runtime: CaseRuntime):
    """`childsafe cases serve`: the HTTP desk with its missing-child routes."""
    from consumers.cases.api import build_app
    from consumers.cases.missing_child import add_routes

    return add_routes(build_app(build_case_desk(runtime)),
                      build_missing_child_desk(settings, runtime.factory, runtime.clock))


# ---- SMS provider and policy ----------------------------------------------------------------------------------

def build_gateway(settings: Settings) -> TwilioGateway:
    return TwilioGateway(
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token.get_secret_value(),
        from_number=settings.twilio_from or None, messaging_service_sid=settings.twilio_messaging_service_sid or None,
        base_url=settings.twilio_base_url or None, timeout=settings.twilio_timeout_s)


def build_quiet_hours(settings: Settings) -> QuietHours:
    return QuietHours(start=settings.sms_quiet_start, end=settings.sms_quiet_end, tz=settings.sms_quiet_tz)


def build_rate_limiter(settings: Settings, clock: Clock, engine: Engine | None = None) -> TokenBucket | SharedRateLimit:
    """With the database (``engine``): one schedule per sending number shared by every dispatcher; without it,
    this process's own token bucket (benchmarks, a single sender in tests)."""
    if engine is None:
        return TokenBucket(rate=settings.sms_rate_per_s, clock=clock)
    sender = settings.twilio_messaging_service_sid or settings.twilio_from
    return SharedRateLimit(engine, sender, settings.sms_rate_per_s, clock)


def build_body_rules(settings: Settings) -> BodyRules:
    return BodyRules(max_segments=settings.sms_max_segments)


def build_reminder_policy(settings: Settings):
    from consumers.sms.reminders import ReminderPolicy

    return ReminderPolicy(min_wait=timedelta(seconds=settings.sms_reminder_min_wait_s),
                          max_rounds=settings.sms_reminder_max_rounds)


def build_sms_sandbox(settings: Settings, faults: FaultPlan, *, host: str | None, port: int | None,
                      step_seconds: float, duplicate_callback_rate: float, seed: int) -> SmsSandbox:
    """The local Twilio-compatible server, with the configured credentials; ``host``/``port`` override the settings."""
    from alerts.sandbox import SmsSandbox

    return SmsSandbox(
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token.get_secret_value(),
        host=host or settings.sms_sandbox_host, port=settings.sms_sandbox_port if port is None else port,
        faults=faults, step_seconds=step_seconds, duplicate_callback_rate=duplicate_callback_rate, seed=seed)


def build_webhook_verifier(settings: Settings) -> WebhookVerifier:
    """Refuses the sandbox's public auth token unless the provider is the local sandbox (ops/identity.py)."""
    return WebhookVerifier(webhook_auth_token(settings))


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(
        callback_base_url=settings.sms_callback_base_url, lease_s=settings.sms_lease_s,
        reconcile_delay_s=settings.sms_reconcile_delay_s, emergency_validity_s=settings.sms_emergency_validity_s,
        backoff=Backoff(settings.sms_retry_base_s, settings.sms_retry_cap_s, settings.sms_retry_max_attempts),
        quiet_hours=build_quiet_hours(settings), concurrency=settings.sms_dispatch_concurrency)


# ---- SMS workers ----------------------------------------------------------------------------------------------

def build_producer(settings: Settings, client_id: str, **extra) -> AcknowledgedProducer:
    return AcknowledgedProducer(settings.bootstrap_servers, client_id, **extra)


def sms_group(namespace: str, group: str) -> str:
    """``<namespace>.<group>``: two stacks (or test runs) on one cluster never share an SMS consumer group."""
    return f"{namespace}.{group}"


def build_sms_consumer(settings: Settings, topic: str, group: str, **extra) -> KafkaConsumer:
    return make_consumer(settings.bootstrap_servers, topic, sms_group(settings.topic_namespace, group),
                         session_timeout_ms=settings.sms_consumer_session_timeout_ms, **extra)


def build_fanout(settings: Settings, stop: threading.Event, *, clock: Clock | None = None,
                 producer: AcknowledgedProducer | None = None, consumer: KafkaConsumer | None = None) -> FanoutWorker:
    clock = clock or SystemClock()
    producer = producer or build_producer(settings, "childsafe-sms-fanout")
    consumer = consumer or build_sms_consumer(settings, ALERTS_REQUESTED.name(settings.topic_namespace), FANOUT_GROUP,
                                              max_poll_interval_ms=30 * 60 * 1000)
    fanout = AudienceFanout(build_engine(settings), producer.to(SMS_JOBS.name(settings.topic_namespace)), clock,
                            page_size=settings.sms_fanout_page, rules=build_body_rules(settings))
    return FanoutWorker(consumer, fanout, dead_letters(settings, producer, "sms-fanout", clock),
                        guard=outage_guard("sms-fanout", stop))


def build_dispatch(settings: Settings, stop: threading.Event, *, clock: Clock | None = None, gateway=None,
                   producer: AcknowledgedProducer | None = None, consumer: KafkaConsumer | None = None,
                   cancellations_consumer: KafkaConsumer | None = None) -> DispatchWorker:
    clock = clock or SystemClock()
    engine = build_engine(settings)
    ledger = SmsLedger(engine, clock)
    book = CancellationBook(engine, clock)
    limiter = build_rate_limiter(settings, clock, engine)
    dispatcher = SmsDispatcher(ledger, gateway or build_gateway(settings), clock, dispatch_settings(settings),
                               cancellations=book, rng=random.Random(), owner=f"dispatcher-{uuid.uuid4().hex[:12]}",
                               throttle=limiter.reserve, slots=getattr(limiter, "reserve_many", None),
                               guard=outage_guard("sms-dispatch", stop))
    producer = producer or build_producer(settings, "childsafe-sms-dispatch")
    ns = settings.topic_namespace
    cancellations = CancellationConsumer(
        cancellations_consumer or build_sms_consumer(settings, ALERTS_CANCELLED.name(ns), CANCELLATIONS_GROUP),
        book, dead_letters(settings, producer, "sms-cancellations", clock), guard=outage_guard("sms-cancellations", stop))
    fallback = GuardianFallback(engine, ledger, producer.to(SMS_JOBS.name(ns)), clock, build_body_rules(settings))
    consumer = consumer or build_sms_consumer(settings, SMS_JOBS.name(ns), DISPATCH_GROUP,
                                              max_poll_records=settings.sms_dispatch_batch,
                                              max_poll_interval_ms=10 * 60 * 1000)
    return DispatchWorker(consumer, dispatcher, fallback, dead_letters(settings, producer, "sms-dispatch", clock),
                          batch=settings.sms_dispatch_batch, cancellations=cancellations,
                          guard=dispatcher.guard)


def build_webhooks(settings: Settings, *, clock: Clock | None = None,
                   producer: AcknowledgedProducer | None = None) -> SmsWebhooks:
    """Refuses to start with the sandbox's public auth token unless the provider is the local sandbox."""
    verifier = build_webhook_verifier(settings)  # first: a refused token must not leave a producer behind
    producer = producer or build_producer(settings, "childsafe-sms-webhooks", linger_ms=0)
    journal = KafkaStatusJournal(producer.to(SMS_STATUS.name(settings.topic_namespace)))
    return SmsWebhooks(build_engine(settings), verifier, settings.sms_callback_base_url,
                       clock or SystemClock(), journal=journal, keyring=field_keyring(settings))


def build_status_consumer(settings: Settings, *, clock: Clock | None = None,
                          producer: AcknowledgedProducer | None = None,
                          consumer: KafkaConsumer | None = None) -> StatusConsumer:
    """Applies what the webhooks recorded on ``sms.status.v1`` (runs beside the webhook server)."""
    clock = clock or SystemClock()
    consumer = consumer or build_sms_consumer(settings, SMS_STATUS.name(settings.topic_namespace), STATUS_GROUP)
    producer = producer or build_producer(settings, "childsafe-sms-status")
    return StatusConsumer(consumer, build_engine(settings), clock, field_keyring(settings),
                          dead_letters(settings, producer, "sms-status", clock))


def build_job_sink(settings: Settings) -> TopicSink:
    return build_producer(settings, "childsafe-sms").to(SMS_JOBS.name(settings.topic_namespace))


# ---- local services, stores the commands read ----------------------------------------------------------------

def build_local_kafka(settings: Settings) -> LocalKafka:
    return LocalKafka(run_dir=settings.run_dir / "kafka", port=settings.kafka_port,
                      controller_port=settings.kafka_controller_port)


def build_local_cluster(settings: Settings, brokers: int) -> LocalKafkaCluster:
    return LocalKafkaCluster.on_ports(settings.run_dir / f"kafka-{brokers}", brokers, settings.kafka_port,
                                      settings.kafka_controller_port)


def build_intake_token_book(settings: Settings) -> IntakeTokenBook:
    return IntakeTokenBook(settings.intake_tokens_path())


def build_case_desk(runtime: CaseRuntime):
    from consumers.cases.actions import CaseDesk

    return CaseDesk(runtime.factory, runtime.clock)


def build_deadletter_replayer(settings: Settings, factory: sessionmaker[Session], operator: str):
    from ops.deadletters import DeadLetterReplayer

    return DeadLetterReplayer(settings.bootstrap_servers, settings.topic_namespace, factory, SystemClock(),
                              operator=operator, keyring=field_keyring(settings))


# ---- directory, console ---------------------------------------------------------------------------------------

def publish_reference_topics(settings: Settings) -> dict:
    """Holdings and school locations from the database to Kafka (idempotent producer, acks=all)."""
    from kafka.errors import KafkaError

    from consumers.directory.reference_topics import publish_reference

    ns = settings.topic_namespace
    try:
        producer = build_producer(settings, "childsafe-directory", request_timeout_ms=15_000,
                                  bootstrap_timeout_ms=5_000)
    except KafkaError as exc:
        return {"published": False, "error": f"Kafka at {settings.bootstrap_servers} unreachable ({exc!r}); the "
                "database is written: run `childsafe directory publish` once Kafka is up"}
    try:
        report = publish_reference(build_engine(settings), producer.to(REGISTRATIONS.name(ns)),
                                   producer.to(SCHOOL_LOCATIONS.name(ns)), SystemClock())
    finally:
        producer.close()
    return {"published": True, **report.as_dict()}


def build_console(settings: Settings, *, clock: Clock | None = None) -> Console:
    """The web console: one engine, the desks, sign-in, the intake client."""
    from console.emergency import EmergencyDesk
    from console.intake import IntakeClient
    from console.sessions import SessionPolicy, SignIn
    from console.web import CodePolicy, Console
    from consumers.cases.actions import CaseDesk

    clock = clock or SystemClock()
    engine = build_engine(settings)
    factory = session_factory(engine)
    policy = SessionPolicy(idle=timedelta(minutes=settings.console_session_idle_minutes),
                           lifetime=timedelta(hours=settings.console_session_hours),
                           max_failures=settings.console_signin_max_failures,
                           failure_window=timedelta(minutes=settings.console_signin_window_minutes))
    intake_url = settings.console_intake_url or f"http://{settings.web_host}:{settings.web_port}"
    return Console(factory=factory, clock=clock, desk=CaseDesk(factory, clock), signin=SignIn(factory, clock, policy),
                   intake=IntakeClient(intake_url, settings.console_intake_token.get_secret_value()),
                   missing=build_missing_child_desk(settings, factory, clock), guardian_codes=CodePolicy(),
                   secure_cookies=settings.console_secure_cookies,
                   acknowledge_minutes=settings.case_acknowledge_minutes,
                   emergency=EmergencyDesk(engine, settings.cap_delegate_map, build_body_rules(settings),
                                           job_sink=lambda: build_job_sink(settings),
                                           reminders=build_reminder_policy(settings)),
                   recall_topics=(REGISTRATIONS.name(settings.topic_namespace),
                                  ALERTS_REQUESTED.name(settings.topic_namespace)),
                   code_gateway=build_gateway(settings),
                   drill_period_days=settings.drill_period_days)


def run_indicator_recorder(settings: Settings, stop: threading.Event) -> None:
    """Record incident, drill and recall facts until `stop` is set (tests run it in a thread)."""
    from consumers.indicators.recorder import IndicatorRecorder, topics
    from consumers.store.db import session_factory

    engine = build_engine(settings)
    kafka = make_consumer(settings.bootstrap_servers, topics(settings.topic_namespace),
                          f"{settings.topic_namespace}.indicators", client_id="childsafe-indicators")
    try:
        IndicatorRecorder(kafka, session_factory(engine), settings.topic_namespace,
                          guard=outage_guard("indicator-recorder", stop)).run()
    finally:
        engine.dispose()
