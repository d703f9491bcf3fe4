"""Composition of the SMS workers from settings: fan-out, dispatcher, webhooks, reminders."""

from __future__ import annotations

from consumers.sms.backoff import Backoff
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.cancellations import CancellationConsumer
from consumers.sms.dispatch_worker import DispatchWorker
from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
from consumers.sms.fallback import GuardianFallback
from consumers.sms.fanout import AudienceFanout
from consumers.sms.fanout_worker import FanoutWorker
from consumers.kafka_io import AcknowledgedProducer, DeadLetters, TopicSink, make_consumer
from consumers.sms.ledger import SmsLedger
from consumers.sms.webhooks import SmsWebhooks, StatusConsumer
from consumers.store.db import make_engine
from contracts.clock import Clock, SystemClock
from contracts.topics import ALERTS_CANCELLED, ALERTS_REQUESTED, SMS_JOBS, SMS_STATUS
from ops.bootstrap import deadletter_limit
from ops.identity import field_keyring
from ops.settings import Settings
from ops.sms_provider import make_body_rules, make_gateway, make_quiet_hours, make_rate_limiter, make_webhook_verifier

FANOUT_GROUP = "childsafe-sms-fanout"
DISPATCH_GROUP = "childsafe-sms-dispatch"
CANCELLATIONS_GROUP = "childsafe-sms-cancellations"
STATUS_GROUP = "childsafe-sms-status"


def build_fanout(settings: Settings, clock: Clock | None = None) -> FanoutWorker:
    clock = clock or SystemClock()
    field_keyring(settings)  # dead letters seal their originals
    engine = make_engine(settings.db_url())
    producer = AcknowledgedProducer(settings.bootstrap_servers, "childsafe-sms-fanout")
    consumer = make_consumer(settings.bootstrap_servers, ALERTS_REQUESTED.name(settings.topic_namespace), FANOUT_GROUP,
                             max_poll_interval_ms=30 * 60 * 1000,
                             session_timeout_ms=settings.sms_consumer_session_timeout_ms)
    fanout = AudienceFanout(engine, producer.to(SMS_JOBS.name(settings.topic_namespace)), clock,
                            page_size=settings.sms_fanout_page, rules=make_body_rules(settings))
    return FanoutWorker(consumer, fanout, dead_letters(settings, producer, "sms-fanout", clock))


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(
        callback_base_url=settings.sms_callback_base_url, lease_s=settings.sms_lease_s,
        reconcile_delay_s=settings.sms_reconcile_delay_s, emergency_validity_s=settings.sms_emergency_validity_s,
        backoff=Backoff(settings.sms_retry_base_s, settings.sms_retry_cap_s, settings.sms_retry_max_attempts),
        quiet_hours=make_quiet_hours(settings), concurrency=settings.sms_dispatch_concurrency)


def build_dispatch(settings: Settings, clock: Clock | None = None) -> DispatchWorker:
    clock = clock or SystemClock()
    field_keyring(settings)  # dead letters seal their originals
    engine = make_engine(settings.db_url())
    ledger = SmsLedger(engine, clock)
    book = CancellationBook(engine, clock)
    dispatcher = SmsDispatcher(ledger, make_gateway(settings), clock, dispatch_settings(settings),
                               throttle=make_rate_limiter(settings, engine, clock).reserve, cancellations=book)
    producer = AcknowledgedProducer(settings.bootstrap_servers, "childsafe-sms-dispatch")
    cancellations = CancellationConsumer(
        make_consumer(settings.bootstrap_servers, ALERTS_CANCELLED.name(settings.topic_namespace), CANCELLATIONS_GROUP,
                      session_timeout_ms=settings.sms_consumer_session_timeout_ms),
        book, dead_letters(settings, producer, "sms-cancellations", clock))
    fallback = GuardianFallback(engine, ledger, producer.to(SMS_JOBS.name(settings.topic_namespace)), clock,
                                make_body_rules(settings))
    consumer = make_consumer(settings.bootstrap_servers, SMS_JOBS.name(settings.topic_namespace), DISPATCH_GROUP,
                             max_poll_records=settings.sms_dispatch_batch, max_poll_interval_ms=10 * 60 * 1000,
                             session_timeout_ms=settings.sms_consumer_session_timeout_ms)
    return DispatchWorker(consumer, dispatcher, fallback,
                          dead_letters(settings, producer, "sms-dispatch", clock),
                          batch=settings.sms_dispatch_batch, cancellations=cancellations)


class KafkaStatusJournal:
    """A callback is on ``sms.status.v1`` (acks=all, idempotent producer) when ``record`` returns."""

    def __init__(self, sink: TopicSink):
        self.sink = sink

    def record(self, event) -> None:
        self.sink.send(event.data.message_sid.encode(), event.to_bytes())
        self.sink.flush()


def build_webhooks(settings: Settings, clock: Clock | None = None) -> SmsWebhooks:
    """Refuses to start with the sandbox's public auth token unless the provider is the local sandbox."""
    verifier = make_webhook_verifier(settings)  # first: a refused token must not leave a producer behind
    journal = KafkaStatusJournal(AcknowledgedProducer(settings.bootstrap_servers, "childsafe-sms-webhooks", linger_ms=0)
                                 .to(SMS_STATUS.name(settings.topic_namespace)))
    return SmsWebhooks(make_engine(settings.db_url()), verifier, settings.sms_callback_base_url,
                       clock or SystemClock(), journal=journal, keyring=field_keyring(settings))


def build_status_consumer(settings: Settings, clock: Clock | None = None) -> StatusConsumer:
    """Applies what the webhooks recorded on ``sms.status.v1`` (runs beside the webhook server)."""
    clock = clock or SystemClock()
    consumer = make_consumer(settings.bootstrap_servers, SMS_STATUS.name(settings.topic_namespace), STATUS_GROUP,
                             session_timeout_ms=settings.sms_consumer_session_timeout_ms)
    return StatusConsumer(consumer, make_engine(settings.db_url()), clock, field_keyring(settings),
                          dead_letters(settings, AcknowledgedProducer(settings.bootstrap_servers, "childsafe-sms-status"),
                                       "sms-status", clock))


def job_sink(settings: Settings) -> TopicSink:
    return AcknowledgedProducer(settings.bootstrap_servers, "childsafe-sms").to(SMS_JOBS.name(settings.topic_namespace))


def dead_letters(settings: Settings, producer: AcknowledgedProducer, worker: str, clock: Clock) -> DeadLetters:
    return DeadLetters(producer, settings.topic_namespace, worker, clock, deadletter_limit(settings))
