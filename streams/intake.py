"""HTTP intake (Faust web views): authenticate, read the whole body, validate, check the sender, write, answer 202.

What the door checks, in order (docs/security.md#intake): a bearer token that may use this route (401/403);
a JSON (or, for emergency alerts, CAP XML) body in UTF-8 (415); a plain ASCII ``Idempotency-Key`` (400);
the whole body, read to its end within ``max_body_bytes`` (413 only above it); the contract (400/422);
the sender the payload names is the token's (403); the key not used before with another body (409).
The 202 carries the event id and is sent only after the broker acknowledged the write (acks=all). The
Kafka record carries the server's receive time as its timestamp: case clocks start there.
"""

from __future__ import annotations

import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import datetime

import faust
from aiohttp import web as aioweb
from pydantic import BaseModel, ValidationError

from contracts.clock import Clock
from contracts.codec import decode, field_errors
from contracts.envelope import CloudEvent
from contracts.errors import ContractError, FieldError
from contracts.events import (
    EmergencyAlertIssuedEvent,
    IncidentReportedEvent,
    RecallPublishedEvent,
    SafetyReportFiledEvent,
)
from contracts.identity import seal_report
from contracts.json_input import check_json_type, parse_json
from contracts.topics import EMERGENCY_ALERTS, INCIDENTS, RECALLS, SAFETY_REPORTS, TopicSpec
from streams.cap_intake import cap_event, check_thread_sender, is_xml  # CAP 1.2 XML beside JSON (issue 5)
from streams.door import refuse_what_cannot_compose
from streams.idempotency import body_hash
from streams.intake_tokens import LOCAL, SENDER_FIELD, IntakeToken, IntakeTokenBook
from streams.metrics import record_intake
from streams.output import Output

log = logging.getLogger("childsafe.intake")
KEY_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,99}", re.ASCII)
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class IntakeRoute:
    name: str  # what a token's routes list names
    topic: TopicSpec
    event: type[CloudEvent]

    @property
    def path(self) -> str:
        return f"/v1/{self.name}"

    @property
    def payload(self) -> type[BaseModel]:
        return self.event.model_fields["data"].annotation

    def key(self, data: BaseModel) -> str:
        for attr in ("school_id", "recall_number", "identifier"):
            if hasattr(data, attr):
                return str(getattr(data, attr))
        raise AssertionError(f"no key attribute on {type(data).__name__}")


ROUTES = (
    IntakeRoute("incidents", INCIDENTS, IncidentReportedEvent),
    IntakeRoute("recalls", RECALLS, RecallPublishedEvent),
    IntakeRoute("safety-reports", SAFETY_REPORTS, SafetyReportFiledEvent),
    IntakeRoute("emergency-alerts", EMERGENCY_ALERTS, EmergencyAlertIssuedEvent),
)


class Refused(Exception):
    """An answer other than 202: the status, a one-line error and the fields at fault."""

    def __init__(self, status: int, error: str, errors: list[FieldError]):
        self.status, self.error, self.errors = status, error, errors
        super().__init__(error)

    def response(self) -> aioweb.Response:
        body = {"error": self.error, "errors": [e.as_dict() for e in self.errors]}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return aioweb.json_response(body, status=self.status, headers=headers,
                                    dumps=lambda v: json.dumps(v, ensure_ascii=False))


def _contract_refusal(exc: ContractError) -> Refused:
    body_level = bool(exc.errors) and exc.errors[0].field == "(body)"
    return Refused(400 if body_level else 422, "bad request" if body_level else "invalid input", exc.errors)


def parse_submission(route: IntakeRoute, raw: bytes, event_id: str | None, source: str,
                     received: datetime) -> CloudEvent:
    """A full CloudEvent is validated as is; a bare payload gets an envelope stamped with the receive time."""
    body = parse_json(raw)
    if isinstance(body, dict) and "specversion" in body:
        return decode(raw, route.topic)
    try:
        data = route.payload.model_validate(body)
    except ValidationError as exc:
        raise ContractError([FieldError(f"data.{e.field}" if e.field != "(body)" else e.field, e.reason, e.got)
                             for e in field_errors(exc)]) from None
    return route.event.new(data, source=source, subject=route.key(data), id=event_id, time=received)


async def read_whole(request, limit: int) -> bytes:
    """The body to its end (Content-Length or EOF, chunked or not), however many segments it came in."""
    if request.content_length is not None and request.content_length > limit:
        raise Refused(413, f"body larger than {limit} bytes", [FieldError("(body)", f"at most {limit} bytes",
                                                                          f"Content-Length {request.content_length}")])
    chunks, size = [], 0
    while True:
        chunk = await request.content.read(_CHUNK)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body larger than {limit} bytes",
                          [FieldError("(body)", f"at most {limit} bytes", f"over {limit}")])
        chunks.append(chunk)


class IntakeDoor:
    """The intake's checks and write, independent of the web framework that calls it."""

    def __init__(self, writer, ledger, tokens: IntakeTokenBook | None, max_body_bytes: int,
                 clock: Clock, insecure_local: bool = False, alerting=None, keyring=None):
        self.writer, self.ledger, self.tokens = writer, ledger, tokens
        self.alerting, self.keyring = alerting, keyring  # CAP delegates (thread senders); identity sealing
        self.max_body_bytes, self.insecure_local = max_body_bytes, insecure_local
        self.clock = clock

    async def post(self, route: IntakeRoute, request) -> aioweb.Response:
        started = time.perf_counter()
        try:
            response = await self.accept(route, request)
        except Refused as refused:
            response = refused.response()
        record_intake(route.path, response.status, time.perf_counter() - started)
        return response

    def authenticate(self, route: IntakeRoute, request) -> IntakeToken:
        if self.insecure_local:
            return LOCAL
        header = request.headers.get("Authorization", "")
        supplied = header[7:].strip() if header[:7].lower() == "bearer " else ""
        token = self.tokens.authenticate(supplied, self.clock.now()) if (supplied and self.tokens) else None
        if token is None:
            raise Refused(401, "missing, unknown or expired bearer token",
                          [FieldError("Authorization", "Bearer <intake token> issued by `childsafe intake token`")])
        if route.name not in token.routes:
            raise Refused(403, "this token may not post here",
                          [FieldError("Authorization", f"token may post to: {', '.join(token.routes)}", route.name)])
        return token

    async def accept(self, route: IntakeRoute, request) -> aioweb.Response:
        received = self.clock.now()
        token = self.authenticate(route, request)
        content_type = request.headers.get("Content-Type")
        xml = route.topic is EMERGENCY_ALERTS and is_xml(content_type)
        key = request.headers.get("Idempotency-Key")
        try:
            if not xml:
                check_json_type(content_type)
        except ContractError as exc:
            raise Refused(415, "unsupported media type", exc.errors) from None
        if key is not None and not KEY_PATTERN.fullmatch(key):
            raise Refused(400, "bad Idempotency-Key", [FieldError(
                "Idempotency-Key", "1-100 ASCII letters, digits, '-' or '_', starting with a letter or digit",
                key[:80].encode("ascii", "backslashreplace").decode())])
        raw = await read_whole(request, self.max_body_bytes)
        source = f"/childsafe/intake/http{route.path}" if token is LOCAL else token.source
        event_id = None if key is None else (key if token is LOCAL else f"{token.id}.{key}")
        try:
            event = (cap_event(raw, source, self.max_body_bytes) if xml
                     else parse_submission(route, raw, event_id, source, received))
        except ContractError as exc:
            raise _contract_refusal(exc) from None
        self.check_sender(token, event)
        if route.topic is EMERGENCY_ALERTS:
            try:
                check_thread_sender(event, self.alerting)  # Update/Cancel only from the thread's sender (cap_intake)
            except ContractError as exc:
                raise _contract_refusal(exc) from None
        try:
            refuse_what_cannot_compose(event)  # refused here, or every alert it causes composes (streams/door.py)
        except ContractError as exc:
            raise _contract_refusal(exc) from None
        event = seal_report(event, self.keyring)  # identity and free text sealed from here on
        claim = None
        if key is not None:
            claim = await self._idempotent(token, key, raw)
            if claim.answer is not None:
                return aioweb.json_response(claim.answer, status=202)
        try:
            [meta] = await self.writer.write([Output(route.topic, (event.subject or event.id).encode(),
                                                     event.to_bytes(), timestamp_ms=int(received.timestamp() * 1000))])
        except Exception as exc:
            log.error("intake write to %s failed: %s", route.topic.suffix, type(exc).__name__)
            raise Refused(503, "not accepted: the event store is unavailable; retry with the same Idempotency-Key",
                          [FieldError("(broker)", "Kafka did not acknowledge the write")]) from None
        answer = {"id": event.id, "topic": meta.topic, "partition": meta.partition, "offset": meta.offset}
        if key is not None:
            await self.ledger.settle(token.id, key, body_hash(raw), answer)
        log.info("report accepted", extra={"correlationid": event.correlationid, "event_id": event.id,
                                           "topic": route.topic.suffix, "partition": meta.partition,
                                           "offset": meta.offset})
        return aioweb.json_response(answer, status=202)

    def check_sender(self, token: IntakeToken, event: CloudEvent) -> None:
        """The sender a submission names must be the token's: its source, and its school id or CAP sender."""
        if token is LOCAL:
            return
        if event.source != token.source:
            raise Refused(403, "source is not this token's sender",
                          [FieldError("source", f"must be {token.source}", event.source[:80])])
        attr = SENDER_FIELD[token.sender_kind]
        if attr is not None and str(getattr(event.data, attr, "")) != token.sender_id:
            raise Refused(403, f"{attr} is not this token's sender",
                          [FieldError(f"data.{attr}", f"this token may send only as {token.sender_id}",
                                      str(getattr(event.data, attr, ""))[:80])])

    async def _idempotent(self, token: IntakeToken, key: str, raw: bytes):
        try:
            claim = await self.ledger.claim(token.id, key, body_hash(raw))
        except Exception as exc:
            log.error("idempotency ledger unavailable: %s", type(exc).__name__)
            raise Refused(503, "not accepted: the idempotency ledger is unavailable; retry with the same key",
                          [FieldError("(broker)", "the idempotency ledger did not answer")]) from None
        if claim.conflict:
            raise Refused(409, "Idempotency-Key already used with a different body",
                          [FieldError("Idempotency-Key", "already used by this client for a different body; "
                                      "use a new key for a new report", key)])
        return claim

    async def health(self, request) -> aioweb.Response:
        ok = await self.writer.reachable()
        return aioweb.json_response({"status": "ok" if ok else "degraded", "kafka": ok}, status=200 if ok else 503)


def register_intake(app: faust.App, door: IntakeDoor) -> None:
    """Mount the door's routes, /health and /openapi.json as Faust views (the only views the app serves)."""
    from streams.openapi import intake_openapi

    @aioweb.middleware
    async def not_ready_is_503(request, handler):
        """A table view asked before the worker's producer/assignment is up: retry later, not a 500."""
        try:
            return await handler(request)
        except faust.exceptions.NotReady:
            return Refused(503, "the worker is starting; retry shortly",
                           [FieldError("(worker)", "not ready yet")]).response()

    app.web.web_app.middlewares.append(not_ready_is_503)

    for route in ROUTES:
        def make_view(route: IntakeRoute):
            class IntakeView(faust.web.View):
                async def post(self, request):
                    return await door.post(route, request)

            IntakeView.__name__ = f"Intake{route.event.__name__}"
            return IntakeView

        app.page(route.path)(make_view(route))

    @app.page("/health")
    class Health(faust.web.View):
        async def get(self, request):
            return await door.health(request)

    @app.page("/openapi.json")
    class OpenApi(faust.web.View):
        async def get(self, request):
            return aioweb.json_response(intake_openapi())  # built on first use (cached): not on the startup path
