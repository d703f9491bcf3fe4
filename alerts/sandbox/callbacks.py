"""Status callbacks as Twilio posts them: form-encoded, signed with X-Twilio-Signature, retried with the same
I-Twilio-Idempotency-Token (and, on request, deliberately duplicated so receivers must deduplicate)."""

from __future__ import annotations

import asyncio
import base64
import hmac
import random
import threading
import uuid
from dataclasses import dataclass
from hashlib import sha1

import aiohttp
from yarl import URL

from alerts.sandbox.store import API_VERSION, StoredMessage


def twilio_signature(auth_token: str, url: str, params: dict[str, str]) -> str:
    """Twilio's scheme: HMAC-SHA1 keyed by the auth token over the full URL followed by each POST parameter
    name and value, sorted by name; base64. (Written from the spec, not with the SDK, so tests prove it.)"""
    payload = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(auth_token.encode(), payload.encode(), sha1).digest()).decode()


def callback_params(message: StoredMessage, status: str) -> dict[str, str]:
    params = {
        "AccountSid": message.account_sid, "ApiVersion": API_VERSION, "MessageSid": message.sid,
        "SmsSid": message.sid, "MessageStatus": status, "SmsStatus": status, "To": message.to,
    }
    if message.from_:
        params["From"] = message.from_
    if message.messaging_service_sid:
        params["MessagingServiceSid"] = message.messaging_service_sid
    if message.error_code is not None and status in ("undelivered", "failed"):
        params["ErrorCode"] = str(message.error_code)
    return params


@dataclass(frozen=True)
class CallbackAttempt:
    sid: str
    status: str
    url: str
    idempotency_token: str
    attempt: int
    http_status: int | None
    error: str | None = None


class CallbackPoster:
    def __init__(self, auth_token: str, *, retries: int = 2, timeout: float = 5.0, duplicate_rate: float = 0.0,
                 seed: int = 0, concurrency: int = 64):
        self.auth_token, self.retries, self.timeout = auth_token, retries, timeout
        self.duplicate_rate = duplicate_rate
        self._rng = random.Random(seed)
        self._concurrency = concurrency
        self._session: aiohttp.ClientSession | None = None
        self._slots: asyncio.Semaphore | None = None
        self._lock = threading.Lock()
        self.attempts: list[CallbackAttempt] = []

    async def open(self) -> None:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
        self._slots = asyncio.Semaphore(self._concurrency)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def post(self, message: StoredMessage, status: str) -> None:
        """Post one status event; retry failures with the same idempotency token."""
        if not message.status_callback:
            return
        params = callback_params(message, status)
        token = f"{message.sid}-{status}-{uuid.uuid4().hex[:12]}"
        copies = 2 if self.duplicate_rate and self._rng.random() < self.duplicate_rate else 1
        for _ in range(copies):
            for attempt in range(1, self.retries + 2):
                if await self._post_once(message, status, params, token, attempt):
                    break
                await asyncio.sleep(0.2 * 2 ** (attempt - 1))

    async def _post_once(self, message, status, params, token, attempt) -> bool:
        """The URL goes out byte for byte as given (encoded=True): the receiver signs what it sees."""
        url = message.status_callback
        headers = {"X-Twilio-Signature": twilio_signature(self.auth_token, url, params),
                   "I-Twilio-Idempotency-Token": token, "User-Agent": "TwilioProxy/1.1"}
        http_status, error = None, None
        try:
            async with self._slots, self._session.post(URL(url, encoded=True), data=params, headers=headers) as response:
                http_status = response.status
                await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        with self._lock:
            self.attempts.append(CallbackAttempt(message.sid, status, url, token, attempt, http_status, error))
        return http_status is not None and 200 <= http_status < 300

    def log(self) -> list[CallbackAttempt]:
        with self._lock:
            return list(self.attempts)

    def clear(self) -> None:
        with self._lock:
            self.attempts.clear()
