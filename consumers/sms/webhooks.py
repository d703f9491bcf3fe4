"""The webhook server: provider status callbacks and inbound SMS, both refused unless signed by the provider.

The signature covers the public URL the provider called, so the app rebuilds it from ``public_base_url``
(what the provider was told) plus the path and query it received.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from alerts.errors import WebhookSignatureError
from alerts.webhook_auth import IDEMPOTENCY_HEADER, WebhookVerifier
from consumers.metrics import record_sms_status, sms_error_class
from consumers.outage import outage_middleware
from consumers.sms.replies import handle_reply
from consumers.sms.status_book import StatusBook

log = logging.getLogger("childsafe.sms.webhooks")
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def result_code(code: str | None) -> int | None:
    return int(code) if code and code.isdigit() else None


class SmsWebhooks:
    def __init__(self, engine, verifier: WebhookVerifier, public_base_url: str, clock):
        self.engine, self.verifier, self.clock = engine, verifier, clock
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
            log.warning("webhook rejected: %s", exc)
            raise web.HTTPForbidden(text=f"{type(exc).__name__}: signature missing or wrong") from None
        return params

    async def metrics(self, _request: web.Request) -> web.Response:
        """Prometheus exposition of this process (status callbacks by status, delivery latency)."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def health(self, _request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    async def status(self, request: web.Request) -> web.Response:
        params = await self._verified(request)
        code = params.get("ErrorCode")
        result = await asyncio.to_thread(
            self.book.apply, marker=request.query.get("job"), sid=params.get("MessageSid"),
            status=(params.get("MessageStatus") or params.get("SmsStatus") or "").lower(),
            error_code=result_code(code), token=request.headers.get(IDEMPOTENCY_HEADER))
        if result.outcome == "applied":
            record_sms_status(params.get("MessageStatus", "").lower(), sms_error_class(result_code(code)),
                              requested_at=result.requested_at, now=self.clock.now())
        return web.json_response({"outcome": result.outcome, "fallback": result.fallback})

    async def inbound(self, request: web.Request) -> web.Response:
        params = await self._verified(request)
        result = await asyncio.to_thread(handle_reply, self.engine, self.clock, params.get("From", ""),
                                         params.get("Body", ""))
        log.info("inbound reply: %s", result.action)
        return web.Response(text=EMPTY_TWIML, content_type="application/xml")
