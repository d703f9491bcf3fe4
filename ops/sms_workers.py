"""Composition of the SMS workers from settings: fan-out, dispatcher, webhooks, reminders."""

from __future__ import annotations

from alerts.webhook_auth import WebhookVerifier
from consumers.sms.backoff import Backoff
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.cancellations import CancellationConsumer
from consumers.sms.dispatch_worker import DispatchWorker
from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
from consumers.sms.fallback import GuardianFallback
from consumers.sms.fanout import AudienceFanout
from consumers.sms.fanout_worker import FanoutWorker
from consumers.sms.kafka_io import DeadLetters, KafkaJobSink, make_consumer, make_producer
from consumers.sms.ledger import SmsLedger
from consumers.sms.webhooks import SmsWebhooks
from consumers.store.db import make_engine
from contracts.clock import Clock, SystemClock
from contracts.topics import ALERTS_CANCELLED, ALERTS_REQUESTED, SMS_JOBS
from ops.settings import Settings
from ops.sms_provider import make_gateway, make_quiet_hours, make_rate_limiter

FANOUT_GROUP = "childsafe-sms-fanout"
DISPATCH_GROUP = "childsafe-sms-dispatch"
CANCELLATIONS_GROUP = "childsafe-sms-cancellations"


def build_fanout(settings: Settings, clock: Clock | None = None) -> FanoutWorker:
    clock = clock or SystemClock()
    engine = make_engine(settings.db_url())
    producer = make_producer(settings.bootstrap_servers)
    consumer = make_consumer(settings.bootstrap_servers, ALERTS_REQUESTED.name(settings.topic_namespace), FANOUT_GROUP,
                             max_poll_interval_ms=30 * 60 * 1000,
                             session_timeout_ms=settings.sms_consumer_session_timeout_ms)
    sink = KafkaJobSink(producer, SMS_JOBS.name(settings.topic_namespace))
    fanout = AudienceFanout(engine, sink, clock, page_size=settings.sms_fanout_page)
    return FanoutWorker(consumer, fanout, DeadLetters(producer, settings.topic_namespace, "sms-fanout", clock))


def dispatch_settings(settings: Settings) -> DispatchSettings:
    return DispatchSettings(
        callback_base_url=settings.sms_callback_base_url, lease_s=settings.sms_lease_s,
        reconcile_delay_s=settings.sms_reconcile_delay_s, emergency_validity_s=settings.sms_emergency_validity_s,
        backoff=Backoff(settings.sms_retry_base_s, settings.sms_retry_cap_s, settings.sms_retry_max_attempts),
        quiet_hours=make_quiet_hours(settings), concurrency=settings.sms_dispatch_concurrency)


def build_dispatch(settings: Settings, clock: Clock | None = None) -> DispatchWorker:
    clock = clock or SystemClock()
    engine = make_engine(settings.db_url())
    ledger = SmsLedger(engine, clock)
    book = CancellationBook(engine, clock)
    dispatcher = SmsDispatcher(ledger, make_gateway(settings), clock, dispatch_settings(settings),
                               throttle=make_rate_limiter(settings, engine, clock).reserve, cancellations=book)
    producer = make_producer(settings.bootstrap_servers)
    cancellations = CancellationConsumer(
        make_consumer(settings.bootstrap_servers, ALERTS_CANCELLED.name(settings.topic_namespace), CANCELLATIONS_GROUP,
                      session_timeout_ms=settings.sms_consumer_session_timeout_ms),
        book, DeadLetters(producer, settings.topic_namespace, "sms-cancellations", clock))
    fallback = GuardianFallback(engine, ledger, KafkaJobSink(producer, SMS_JOBS.name(settings.topic_namespace)), clock)
    consumer = make_consumer(settings.bootstrap_servers, SMS_JOBS.name(settings.topic_namespace), DISPATCH_GROUP,
                             max_poll_records=settings.sms_dispatch_batch, max_poll_interval_ms=10 * 60 * 1000,
                             session_timeout_ms=settings.sms_consumer_session_timeout_ms)
    return DispatchWorker(consumer, dispatcher, fallback,
                          DeadLetters(producer, settings.topic_namespace, "sms-dispatch", clock),
                          batch=settings.sms_dispatch_batch, cancellations=cancellations)


def build_webhooks(settings: Settings, clock: Clock | None = None) -> SmsWebhooks:
    return SmsWebhooks(make_engine(settings.db_url()), WebhookVerifier(settings.twilio_auth_token.get_secret_value()),
                       settings.sms_callback_base_url, clock or SystemClock())


def job_sink(settings: Settings) -> KafkaJobSink:
    return KafkaJobSink(make_producer(settings.bootstrap_servers), SMS_JOBS.name(settings.topic_namespace))
