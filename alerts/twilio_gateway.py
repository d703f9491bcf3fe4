"""The SMS gateway on the official ``twilio`` SDK: real Twilio, or the local sandbox by base URL.

Failure mapping (what the dispatcher may do next):
- 21211 / 21610 / 21614 and other 4xx refusals of the message -> PermanentSendError(code)
- HTTP 429 / 20429, HTTP 5xx, connection refused, connect timeout -> TransientSendError (nothing accepted)
- read timeout, connection reset or closed after the request went out, a 2xx with an unreadable body
  -> AmbiguousSendError: the provider may hold the message; reconcile with ``find_messages`` first
- 401/403 (credentials, account) -> GatewayConfigError: stop and fix the settings
"""

from __future__ import annotations

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, NewConnectionError

from alerts.gateway import (
    AmbiguousSendError,
    GatewayConfigError,
    PermanentSendError,
    ProviderMessage,
    SentMessage,
    TransientSendError,
)

RATE_LIMITED = 20429


def _classify_rest(exc: TwilioRestException, what: str):
    status, code = exc.status, exc.code if isinstance(exc.code, int) else None
    text = f"{what}: HTTP {status} code {code}: {exc.msg}"
    if status == 429 or code == RATE_LIMITED or status >= 500:
        return TransientSendError(text, code=code, http_status=status)
    if status in (401, 403):
        return GatewayConfigError(text, code=code, http_status=status)
    return PermanentSendError(text, code=code, http_status=status)


def _nothing_sent(exc: requests.exceptions.ConnectionError) -> bool:
    """Connection refused / DNS failure / connect timeout: the request never reached the provider.
    Anything else (reset, closed without answer) may have come after the provider read the request."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, MaxRetryError):
        reason = reason.reason
    return isinstance(reason, (NewConnectionError, ConnectTimeoutError))


class TwilioGateway:
    """SmsGateway over the twilio SDK. Pass ``base_url`` to use the sandbox (edge/region stay unset).
    It keeps one keep-alive HTTP session: use one instance per sending thread."""

    def __init__(self, *, account_sid: str, auth_token: str, from_number: str | None = None,
                 messaging_service_sid: str | None = None, base_url: str | None = None, timeout: float = 5.0,
                 lookup_limit: int = 1000, lookup_page_size: int = 100):
        if not from_number and not messaging_service_sid:
            raise GatewayConfigError("twilio_from or twilio_messaging_service_sid must be set")
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        self.client.edge = self.client.region = None  # they would rewrite the sandbox host
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_number, self.messaging_service_sid = from_number, messaging_service_sid
        self.lookup_limit, self.lookup_page_size = lookup_limit, lookup_page_size

    def send(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> SentMessage:
        sender = {"messaging_service_sid": self.messaging_service_sid} if self.messaging_service_sid \
            else {"from_": self.from_number}
        try:
            message = self.client.messages.create(
                to=to, body=body, status_callback=status_callback or None, validity_period=validity_seconds,
                **sender)
        except TwilioRestException as exc:
            raise _classify_rest(exc, f"send to {to}") from exc
        except requests.exceptions.ConnectionError as exc:
            if _nothing_sent(exc):
                raise TransientSendError(f"send to {to}: not connected: {exc}") from exc
            raise AmbiguousSendError(f"send to {to}: connection lost after sending: {exc}") from exc
        except requests.exceptions.Timeout as exc:  # ReadTimeout: the request went out
            raise AmbiguousSendError(f"send to {to}: no answer in time: {exc}") from exc
        except (requests.exceptions.RequestException, TwilioException, ValueError) as exc:
            raise AmbiguousSendError(f"send to {to}: unreadable answer: {exc}") from exc
        return SentMessage(sid=message.sid, status=message.status,
                           segments=int(message.num_segments) if message.num_segments else None)

    def find_messages(self, *, to: str) -> list[ProviderMessage]:
        """Newest first, every page up to ``lookup_limit`` messages: reading one page (it was the newest 20)
        missed a message that newer ones to the same number had pushed onto the next page, and the dispatcher
        sent it again. Twilio's Message resource has no status-callback field, so ``status_callback`` is
        None: match on ``body`` (which carries the alert reference) and ``to``."""
        return self._read(f"look up messages to {to}", lambda: [
            self._provider(m) for m in self.client.messages.stream(
                to=to, limit=self.lookup_limit, page_size=min(self.lookup_page_size, self.lookup_limit))])

    def fetch(self, sid: str) -> ProviderMessage:
        return self._read(f"fetch {sid}", lambda: self._provider(self.client.messages(sid).fetch()))

    def _read(self, what: str, call):
        """Look-ups are idempotent: a failure to read is transient, except 404 (permanent) and 401/403."""
        try:
            return call()
        except TwilioRestException as exc:
            if exc.status in (401, 403):
                raise GatewayConfigError(f"{what}: HTTP {exc.status}: {exc.msg}", code=exc.code,
                                         http_status=exc.status) from exc
            kind = PermanentSendError if exc.status == 404 else TransientSendError
            raise kind(f"{what}: HTTP {exc.status}: {exc.msg}", code=exc.code, http_status=exc.status) from exc
        except (requests.exceptions.RequestException, TwilioException, ValueError) as exc:
            raise TransientSendError(f"{what}: {exc}") from exc

    @staticmethod
    def _provider(m) -> ProviderMessage:
        return ProviderMessage(sid=m.sid, to=m.to, status=m.status, status_callback=None, body=m.body,
                               date_created=m.date_created, error_code=m.error_code)
