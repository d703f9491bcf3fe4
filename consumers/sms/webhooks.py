"""The webhook server: provider status callbacks and inbound SMS, both refused unless signed by the provider.

The signature covers the public URL the provider called, so the app rebuilds it from ``public_base_url``
(what the provider was told) plus the path and query it received.

Nothing is lost and nothing is replayed: a signed callback is first written to ``sms.status.v1`` (acks=all,
the reply's number and text sealed) and only then answered 2xx; a database that is locked at that moment
costs nothing, because :class:`StatusConsumer` applies the recorded callback later. Whoever applies it, it
is applied once per (MessageSid, status), in the same transaction as its effect.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web
from kafka.structs import TopicPartition
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from alerts.errors import WebhookSignatureError
from alerts.webhook_auth import WebhookVerifier
from consumers.kafka_io import DeadLetters, commit_after
from consumers.metrics import record_sms_status, sms_error_class
from consumers.outage import outage_middleware
from consumers.sms.replies import handle_reply
from consumers.sms.status_book import StatusBook
from contracts.clock import Clock
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.events import SmsStatusReportedEvent
from contracts.sealed import Keyring
from contracts.sms import SmsDeliveryStatus, SmsStatusReported
from contracts.topics import SMS_STATUS

log = logging.getLogger("childsafe.sms.webhooks")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
REPLY_BODY, REPLY_FROM = "sms.reply.body", "sms.reply.from"


class StatusJournal(Protocol):
    """Where a callback is durably recorded before it is answered (Kafka ``sms.status.v1``, acks=all)."""

    def record(self, event: SmsStatusReportedEvent) -> None: ...


def result_code(code: str | None) -> int | None:
    return int(code) if code and code.isdigit() and len(code) < 10 else None


def apply_reported(book: StatusBook, engine: Engine, clock: Clock, report: SmsStatusReported,
                   keyring: Keyring | None, marker: str | None = None):
    """One recorded callback applied to the database (idempotent by MessageSid and status)."""
    if report.status is SmsDeliveryStatus.RECEIVED:
        def plain(value, purpose):
            return keyring.open(value, purpose) if keyring is not None else value
        return handle_reply(engine, clock, plain(report.from_number or "", REPLY_FROM),
                            plain(report.inbound_body or "", REPLY_BODY), sid=report.message_sid)
    return book.apply(marker=marker, sid=report.message_sid, status=report.status.value,
                      error_code=report.error_code, token=None)


class SmsWebhooks:
    def __init__(self, engine, verifier: WebhookVerifier, public_base_url: str, clock,
                 journal: StatusJournal | None = None, keyring: Keyring | None = None):
        self.engine, self.verifier, self.clock = engine, verifier, clock
        self.journal, self.keyring = journal, keyring
        self.public_base_url = public_base_url.rstrip("/")
        self.book = StatusBook(engine, clock)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024, middlewares=[outage_middleware("sms-webhooks")])
        app.add_routes([web.post("/sms/status", self.status), web.post("/sms/inbound", self.inbound),
                        web.get("/healthz", self.health), web.get("/metrics", self.metrics)])
        return app

    async def _verified(self, request: web.Request):
        params = await request.post()
        try:
            self.verifier.verify_request(self.public_base_url + request.path_qs, params, request.headers)
        except WebhookSignatureError as exc:
            log.warning("webhook rejected: %s", type(exc).__name__)
            raise web.HTTPForbidden(text=f"{type(exc).__name__}: signature missing or wrong") from None
        return params

    async def metrics(self, _request: web.Request) -> web.Response:
        """Prometheus exposition of this process (status callbacks by status, delivery latency)."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    def _seal(self, value: str | None, purpose: str):
        return self.keyring.seal(value, purpose) if self.keyring is not None and value else value or None

    def _report(self, params, status: str, *, inbound: bool) -> SmsStatusReported:
        try:
            return SmsStatusReported(
                message_sid=params.get("MessageSid") or params.get("SmsSid") or "", status=status,
                error_code=result_code(params.get("ErrorCode")),
                idempotency_token=None, received_at=self.clock.now(),
                inbound_body=self._seal(params.get("Body", "")[:1600], REPLY_BODY) if inbound else None,
                from_number=self._seal(params.get("From"), REPLY_FROM) if inbound else None)
        except ValidationError as exc:
            fields = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors(include_url=False)})
            raise web.HTTPBadRequest(text=f"invalid callback: {', '.join(fields)} missing or malformed") from None

    async def _record(self, report: SmsStatusReported) -> None:
        """Durably on sms.status.v1 before any 2xx; 503 (the provider retries) if Kafka did not take it."""
        if self.journal is None:
            return
        event = SmsStatusReportedEvent.new(report, source="/consumers/sms-webhooks", subject=report.message_sid,
                                           id=f"sms-status:{report.message_sid}:{report.status.value}")
        try:
            await asyncio.to_thread(self.journal.record, event)
        except Exception as exc:
            log.error("callback not recorded on the status topic: %s", type(exc).__name__)
            raise web.HTTPServiceUnavailable(text="not recorded; retry") from None

    async def _apply(self, report: SmsStatusReported, marker: str | None = None):
        """Apply now if the database lets us; once recorded, a failure here is applied later by the consumer."""
        try:
            return await asyncio.to_thread(apply_reported, self.book, self.engine, self.clock, report,
                                           self.keyring, marker)
        except SQLAlchemyError as exc:
            if self.journal is None:
                raise
            log.warning("callback recorded, database busy: applied by the status consumer (%s)", type(exc).__name__)
            return None

    async def status(self, request: web.Request) -> web.Response:
        params = await self._verified(request)
        status = (params.get("MessageStatus") or params.get("SmsStatus") or "").lower()
        report = self._report(params, status, inbound=False)
        await self._record(report)
        result = await self._apply(report, marker=request.query.get("job"))
        if result is None:
            return web.json_response({"outcome": "recorded", "fallback": False})
        if result.outcome == "applied":
            record_sms_status(status, sms_error_class(report.error_code), requested_at=result.requested_at,
                              now=self.clock.now())
        return web.json_response({"outcome": result.outcome, "fallback": result.fallback})

    async def inbound(self, request: web.Request) -> web.Response:
        params = await self._verified(request)
        report = self._report(params, SmsDeliveryStatus.RECEIVED.value, inbound=True)
        await self._record(report)
        result = await self._apply(report)
        log.info("inbound reply: %s", result.action if result is not None else "recorded")
        return web.Response(text=EMPTY_TWIML, content_type="application/xml")


class StatusConsumer:
    """Reads ``sms.status.v1`` and applies each recorded callback (a duplicate of one applied inline is a no-op);
    commits each offset only after its effect is in the database."""

    def __init__(self, consumer, engine: Engine, clock: Clock, keyring: Keyring | None, dead_letters: DeadLetters):
        self.consumer, self.engine, self.clock, self.keyring = consumer, engine, clock, keyring
        self.book, self.dead_letters = StatusBook(engine, clock), dead_letters

    def poll_once(self, timeout_ms: int = 100, max_records: int = 500) -> int:
        applied = 0
        for records in self.consumer.poll(timeout_ms=timeout_ms, max_records=max_records).values():
            for record in records:
                try:
                    report = decode(record.value, SMS_STATUS).data
                except ContractError as exc:
                    self.dead_letters.reject(record, "not a valid SMS status record", exc.errors)
                else:
                    try:
                        apply_reported(self.book, self.engine, self.clock, report, self.keyring)
                    except Exception:
                        self.consumer.seek(TopicPartition(record.topic, record.partition), record.offset)
                        raise  # not committed: read again on the next poll
                    self.dead_letters.passed()
                    applied += 1
                commit_after(self.consumer, record)
        return applied
