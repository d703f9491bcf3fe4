"""The sandbox as a running server: in a background thread for tests (``start()``/``stop()`` on a free
port), or in the foreground for ``childsafe sms-sandbox``; plus its /_sandbox inspection endpoints."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import Counter
from dataclasses import asdict

from aiohttp import web

from alerts.sandbox.api import MessagesApi
from alerts.sandbox.callbacks import CallbackAttempt, CallbackPoster, twilio_signature
from alerts.sandbox.faults import FaultPlan, FaultSpecError
from alerts.sandbox.store import MessageStore

DEFAULT_ACCOUNT_SID = "AC" + "0" * 31 + "1"
DEFAULT_AUTH_TOKEN = "sandbox-auth-token-not-a-secret"


class SmsSandbox:
    """A local Twilio-compatible Messages API. ``url`` is what ``client.api.base_url`` should be set to."""

    def __init__(self, *, faults: FaultPlan, account_sid: str = DEFAULT_ACCOUNT_SID,
                 auth_token: str = DEFAULT_AUTH_TOKEN, host: str = "127.0.0.1", port: int = 0, step_seconds: float = 0.05,
                 callback_retries: int = 2, duplicate_callback_rate: float = 0.0, seed: int = 0):
        """``faults``: the provider failures to play (``FaultPlan()`` for none; its own seed draws them); ``seed``
        draws the duplicate callbacks."""
        self.account_sid, self.auth_token, self.host, self.port = account_sid, auth_token, host, port
        self.store = MessageStore()
        self.callbacks = CallbackPoster(auth_token, retries=callback_retries, duplicate_rate=duplicate_callback_rate,
                                        seed=seed)
        self.api = MessagesApi(account_sid, auth_token, self.store, self.callbacks, faults,
                               step_seconds)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    # -- inspection (thread-safe) -------------------------------------------------------------------
    def messages(self, to: str | None = None) -> list[dict]:
        return [m.record() for m in reversed(self.store.newest_first(to))]

    def counts(self) -> dict[str, int]:
        return dict(self.store.counts())

    def callback_log(self) -> list[CallbackAttempt]:
        return self.callbacks.log()

    def set_faults(self, plan: FaultPlan) -> None:
        self.api.faults = plan

    def reset(self) -> None:
        self.store.clear()
        self.callbacks.clear()
        self.api.outcomes.clear()

    def outcomes(self) -> dict[str, int]:
        return dict(self.api.outcomes)

    def reply(self, from_: str, body: str, url: str, timeout: float = 10.0) -> int:
        """A recipient answers by SMS: the incoming-message webhook Twilio posts to a number's SMS URL (form
        fields MessageSid, AccountSid, From, To, Body; signed with X-Twilio-Signature), sent to ``url``. ``To`` is
        the sender the newest message to ``from_`` came from. Returns the receiver's HTTP status."""
        last = next(iter(self.store.newest_first(from_)), None)
        params = {"MessageSid": "SM" + uuid.uuid4().hex, "AccountSid": self.account_sid, "From": from_,
                  "To": (last.from_ or last.messaging_service_sid or "") if last else "", "Body": body,
                  "NumMedia": "0", "ApiVersion": "2010-04-01"}
        request = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(), method="POST", headers={
            "X-Twilio-Signature": twilio_signature(self.auth_token, url, params),
            "Content-Type": "application/x-www-form-urlencoded", "User-Agent": "TwilioProxy/1.1"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (a test's own URL)
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    # -- HTTP ---------------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.add_routes(self.api.routes())
        app.add_routes([
            web.get("/_sandbox/messages", self._h_messages), web.get("/_sandbox/counts", self._h_counts),
            web.get("/_sandbox/callbacks", self._h_callbacks), web.post("/_sandbox/reset", self._h_reset),
            web.get("/_sandbox/faults", self._h_get_faults), web.put("/_sandbox/faults", self._h_put_faults),
        ])
        app.on_startup.append(lambda _app: self.callbacks.open())
        app.on_cleanup.append(lambda _app: self.callbacks.close())
        return app

    async def _h_messages(self, request: web.Request) -> web.Response:
        found = self.messages(request.query.get("to"))
        return web.json_response({"count": len(found), "messages": found})

    async def _h_counts(self, request: web.Request) -> web.Response:
        counts = self.counts()
        same = Counter((m["to"], m["body"]) for m in self.messages())  # one body twice to one number: a duplicate
        duplicates = Counter(to for (to, _), n in same.items() for _ in range(n - 1))
        return web.json_response({"total": sum(counts.values()), "recipients": len(counts), "outcomes": self.outcomes(),
                                  "duplicates": {to: n + 1 for to, n in duplicates.items()}, "by_to": counts})

    async def _h_callbacks(self, request: web.Request) -> web.Response:
        return web.json_response({"attempts": [asdict(a) for a in self.callback_log()]})

    async def _h_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"reset": True})

    async def _h_get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(self.api.faults.as_json())

    async def _h_put_faults(self, request: web.Request) -> web.Response:
        try:
            self.set_faults(FaultPlan.from_json(await request.json()))
        except (FaultSpecError, TypeError, ValueError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.api.faults.as_json())

    # -- running ------------------------------------------------------------------------------------
    async def _serve(self) -> None:
        self._runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, backlog=1024, reuse_address=True)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]

    def start(self) -> SmsSandbox:
        """Serve in a daemon thread; returns once the port is bound."""
        logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
        self._thread = threading.Thread(target=self._run, name="sms-sandbox", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        except BaseException as exc:  # surfaced by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(self._shutdown())
        self._loop.close()

    async def _shutdown(self) -> None:
        pending = list(self.api.tasks)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self._runner.cleanup()

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> SmsSandbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def serve_forever(self) -> None:
        """Foreground (CLI): blocks until Ctrl-C or SIGTERM, then stops cleanly."""
        if self._thread is None:
            self.start()
        stopping = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stopping.set())
        try:
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()
