"""The Twilio-compatible Messages API of the sandbox (create, fetch, list), with faults and callbacks."""

from __future__ import annotations

import asyncio
import base64
import hmac
import re
from urllib.parse import urlencode

from aiohttp import web

from alerts.sandbox.callbacks import CallbackPoster
from alerts.sandbox.faults import REFUSALS, FaultPlan, FaultRule
from alerts.sandbox.store import API_VERSION, MessageStore, StoredMessage
from alerts.segments import count_segments

E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response({"code": code, "message": message, "status": status,
                              "more_info": f"https://www.twilio.com/docs/errors/{code}"}, status=status)


class MessagesApi:
    def __init__(self, account_sid: str, auth_token: str, store: MessageStore, callbacks: CallbackPoster,
                 faults: FaultPlan, step_seconds: float):
        self.account_sid, self.auth_token = account_sid, auth_token
        self.store, self.callbacks, self.faults = store, callbacks, faults
        self.step_seconds = step_seconds
        self.tasks: set[asyncio.Task] = set()
        self.outcomes: dict[str, int] = {}

    def routes(self) -> list[web.RouteDef]:
        base = f"/{API_VERSION}/Accounts/{{account}}/Messages"
        return [web.post(base + ".json", self.create), web.get(base + ".json", self.list),
                web.get(base + "/{sid}.json", self.fetch)]

    def _count(self, outcome: str) -> None:
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1

    def _refused_auth(self, request: web.Request) -> web.Response | None:
        expected = "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return twilio_error(401, 20003, "Authenticate")
        if request.match_info["account"] != self.account_sid:
            return twilio_error(404, 20404, "The requested resource was not found")
        return None

    async def _apply_refusal(self, rule: FaultRule | None) -> web.Response | None:
        if rule is None:
            return None
        if rule.kind == "slow" and rule.on == "all":
            await asyncio.sleep(rule.seconds)
        if rule.kind in REFUSALS:
            status, code, text = REFUSALS[rule.kind]
            self._count(rule.kind)
            return twilio_error(status, code, text)
        return None

    async def create(self, request: web.Request) -> web.StreamResponse:
        if (refused := self._refused_auth(request)) is not None:
            return refused
        form = await request.post()
        to, body = form.get("To", ""), form.get("Body", "")
        sender, service = form.get("From") or None, form.get("MessagingServiceSid") or None
        if not to:
            return twilio_error(400, 21604, "A 'To' phone number is required.")
        if not E164.match(to):
            return twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not sender and not service:
            return twilio_error(400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required.")
        if not body:
            return twilio_error(400, 21602, "Message body is required.")
        if len(body) > 1600:
            return twilio_error(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
        validity = form.get("ValidityPeriod")
        if validity is not None and not (validity.isdigit() and 1 <= int(validity) <= 36000):
            return twilio_error(400, 21623, f"ValidityPeriod must be 1-36000 seconds, got {validity}.")
        rule = self.faults.pick(to, creating=True)
        if (refused := await self._apply_refusal(rule)) is not None:
            return refused
        message = StoredMessage(
            account_sid=self.account_sid, to=to, body=body, from_=sender, messaging_service_sid=service,
            status_callback=form.get("StatusCallback") or None, validity_period=int(validity) if validity else None,
            num_segments=max(1, count_segments(body).segments), fault=rule.kind if rule else None)
        self.store.add(message)
        self._count(rule.kind if rule else "accepted")
        task = asyncio.get_running_loop().create_task(self._lifecycle(message, rule))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        response = web.json_response(message.resource(), status=201)
        if rule and rule.kind == "response_lost":
            return await self._drop(request)
        if rule and rule.kind in ("slow", "response_timeout"):
            await asyncio.sleep(rule.seconds)
            if rule.kind == "response_timeout":
                return await self._drop(request)
        return response

    async def _drop(self, request: web.Request) -> web.StreamResponse:
        """Accepted, but the client never hears it: close the connection without an HTTP response."""
        if request.transport is not None:
            request.transport.abort()
        raise asyncio.CancelledError()

    async def _lifecycle(self, message: StoredMessage, rule: FaultRule | None) -> None:
        """queued -> sent -> delivered (or undelivered 30003…, or failed 30036 past its ValidityPeriod)."""
        step = self.step_seconds
        await asyncio.sleep(step)
        await self.callbacks.post(message, "queued")
        if rule and rule.kind == "queued_long":
            if message.validity_period and message.validity_period < rule.seconds:
                await asyncio.sleep(message.validity_period)
                self.store.update(message.sid, "failed", 30036)
                await self.callbacks.post(message, "failed")
                return
            await asyncio.sleep(rule.seconds)
        await asyncio.sleep(step)
        self.store.update(message.sid, "sent")
        await self.callbacks.post(message, "sent")
        await asyncio.sleep(step)
        if rule and rule.kind == "undelivered":
            self.store.update(message.sid, "undelivered", rule.code or 30003)
            await self.callbacks.post(message, "undelivered")
        else:
            self.store.update(message.sid, "delivered")
            await self.callbacks.post(message, "delivered")

    async def fetch(self, request: web.Request) -> web.Response:
        if (refused := self._refused_auth(request)) is not None:
            return refused
        message = self.store.get(request.match_info["sid"])
        if message is None:
            return twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        if (refused := await self._apply_refusal(self.faults.pick(message.to, creating=False))) is not None:
            return refused
        return web.json_response(message.resource())

    async def list(self, request: web.Request) -> web.Response:
        if (refused := self._refused_auth(request)) is not None:
            return refused
        query = request.query
        to = query.get("To")
        if (refused := await self._apply_refusal(self.faults.pick(to or "", creating=False))) is not None:
            return refused
        try:
            size = min(1000, max(1, int(query.get("PageSize", 50))))
            page = max(0, int(query.get("Page", 0)))
        except ValueError:
            return twilio_error(400, 20001, "PageSize and Page must be integers")
        found = [m for m in self.store.newest_first(to) if query.get("From") in (None, m.from_)]
        chunk = found[page * size:(page + 1) * size]
        path = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"
        filters = {k: v for k, v in (("To", to), ("From", query.get("From"))) if v}

        def uri(p: int) -> str:
            return f"{path}?{urlencode({**filters, 'PageSize': size, 'Page': p})}"

        more = (page + 1) * size < len(found)
        return web.json_response({
            "messages": [m.resource() for m in chunk], "page": page, "page_size": size, "start": page * size,
            "end": page * size + max(0, len(chunk) - 1), "uri": uri(page), "first_page_uri": uri(0),
            "next_page_uri": uri(page + 1) if more else None, "previous_page_uri": uri(page - 1) if page else None,
        })
