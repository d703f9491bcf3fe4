"""HTTP intake (Faust web views): authenticate, validate, write to the intake topic, then answer 202.

The 202 carries the event id and is sent only after the broker acknowledged the write (acks=all).
A body may be a full CloudEvent, or just the payload, which is wrapped in a new envelope; an
``Idempotency-Key`` header then becomes the event id, so a client retry is routed once.
"""

from __future__ import annotations

import hmac
import json
import logging
import time
from dataclasses import dataclass

import faust
from aiohttp import web as aioweb
from pydantic import BaseModel

from contracts.codec import decode
from contracts.errors import ContractError, FieldError
from contracts.identity import seal_report
from contracts.events import (EmergencyAlertIssuedEvent, IncidentReportedEvent, RecallPublishedEvent,
                              SafetyReportFiledEvent)
from contracts.envelope import CloudEvent
from contracts.topics import EMERGENCY_ALERTS, INCIDENTS, RECALLS, SAFETY_REPORTS, TopicSpec
from streams.cap_intake import cap_event, is_xml  # CAP 1.2 XML beside JSON (issue 5)
from streams.metrics import record_intake
from streams.triage import Output
from streams.writer import KafkaWriter

log = logging.getLogger("childsafe.intake")


@dataclass(frozen=True)
class IntakeRoute:
    path: str
    topic: TopicSpec
    event: type[CloudEvent]

    def key(self, data: BaseModel) -> str:
        for attr in ("school_id", "recall_number", "identifier"):
            if hasattr(data, attr):
                return str(getattr(data, attr))
        raise AssertionError(f"no key attribute on {type(data).__name__}")


ROUTES = (
    IntakeRoute("/v1/incidents", INCIDENTS, IncidentReportedEvent),
    IntakeRoute("/v1/recalls", RECALLS, RecallPublishedEvent),
    IntakeRoute("/v1/safety-reports", SAFETY_REPORTS, SafetyReportFiledEvent),
    IntakeRoute("/v1/emergency-alerts", EMERGENCY_ALERTS, EmergencyAlertIssuedEvent),
)


def _errors(status: int, errors: list[FieldError]) -> aioweb.Response:
    body = {"error": "invalid input" if status == 422 else "bad request", "errors": [e.as_dict() for e in errors]}
    return aioweb.json_response(body, status=status, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def parse_submission(route: IntakeRoute, raw: bytes, idempotency_key: str | None, source: str) -> CloudEvent:
    """A full CloudEvent is validated as is; a bare payload gets an envelope (id from Idempotency-Key)."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ContractError([FieldError("(body)", f"not valid JSON: {exc}")]) from None
    if isinstance(body, dict) and "specversion" in body:
        return decode(raw, route.topic)
    try:
        data_model = route.event.model_fields["data"].annotation
        data = data_model.model_validate(body)
    except Exception as exc:  # pydantic ValidationError: reuse the codec's field naming
        from pydantic import ValidationError

        from contracts.codec import field_errors

        if isinstance(exc, ValidationError):
            raise ContractError([FieldError(f"data.{e.field}" if e.field != "(body)" else e.field, e.reason, e.got)
                                 for e in field_errors(exc)]) from None
        raise
    if idempotency_key is not None:
        if not (0 < len(idempotency_key) <= 100) or not idempotency_key.replace("-", "").replace("_", "").isalnum():
            raise ContractError([FieldError("Idempotency-Key", "1-100 letters, digits, '-' or '_'",
                                            idempotency_key[:80])])
    return route.event.new(data, source=source, subject=route.key(data), id=idempotency_key)


def register_intake(app: faust.App, cfg, writer: KafkaWriter) -> None:
    tokens = tuple(t for t in cfg.intake_tokens if t)

    def authorised(request) -> bool:
        if not tokens:
            return True
        header = request.headers.get("Authorization", "")
        supplied = header[7:] if header.startswith("Bearer ") else ""
        return any(hmac.compare_digest(supplied.encode(), t.encode()) for t in tokens)

    async def read_limited(request) -> bytes | None:
        if request.content_length is not None and request.content_length > cfg.max_body_bytes:
            return None
        raw = await request.content.read(cfg.max_body_bytes + 1)
        return None if len(raw) > cfg.max_body_bytes else raw

    for route in ROUTES:
        def make_view(route: IntakeRoute):
            class IntakeView(faust.web.View):
                async def post(self, request):
                    started = time.perf_counter()
                    response = await self.accept(request)
                    record_intake(route.path, response.status, time.perf_counter() - started)
                    return response

                async def accept(self, request):
                    if not authorised(request):
                        return aioweb.json_response({"error": "missing or wrong bearer token"}, status=401)
                    raw = await read_limited(request)
                    if raw is None:
                        return aioweb.json_response(
                            {"error": f"body larger than {cfg.max_body_bytes} bytes"}, status=413)
                    try:
                        if route.topic is EMERGENCY_ALERTS and is_xml(request.headers.get("Content-Type")):
                            event = cap_event(raw, f"/childsafe/intake/http{route.path}", cfg.max_body_bytes)
                        else:
                            event = parse_submission(route, raw, request.headers.get("Idempotency-Key"),
                                                     source=f"/childsafe/intake/http{route.path}")
                    except ContractError as exc:
                        status = 400 if exc.errors and exc.errors[0].field == "(body)" else 422
                        return _errors(status, exc.errors)
                    event = seal_report(event, cfg.keyring)  # identity and free text sealed from here on
                    key = (event.subject or event.id).encode()
                    try:
                        [meta] = await writer.write([Output(route.topic, key, event.to_bytes())])
                    except Exception as exc:
                        log.error("intake write to %s failed: %s", route.topic.suffix, type(exc).__name__)
                        return aioweb.json_response({"error": "not accepted: the event store is unavailable; "
                                                              "retry with the same Idempotency-Key"}, status=503)
                    log.info("report accepted", extra={"correlationid": event.correlationid, "event_id": event.id,
                                                       "topic": route.topic.suffix, "partition": meta.partition,
                                                       "offset": meta.offset})
                    return aioweb.json_response({"id": event.id, "topic": meta.topic, "partition": meta.partition,
                                                 "offset": meta.offset}, status=202)

            IntakeView.__name__ = f"Intake{route.event.__name__}"
            return IntakeView

        app.page(route.path)(make_view(route))

    @app.page("/health")
    class Health(faust.web.View):
        async def get(self, request):
            try:
                producer = await writer.producer()
                ok = producer.client.cluster.brokers() is not None
            except Exception:
                ok = False
            return aioweb.json_response({"status": "ok" if ok else "degraded", "kafka": ok}, status=200 if ok else 503)
