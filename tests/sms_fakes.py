"""A fake SMS gateway with observable state: what it holds, and failures a test injects."""

from __future__ import annotations

import itertools
from collections import deque

from alerts.gateway import AmbiguousSendError, PermanentSendError, ProviderMessage, SentMessage, TransientSendError

LOSE_RESPONSE = "lose-response"  # accept the message, then fail as if the response was lost


class FakeSmsGateway:
    def __init__(self) -> None:
        self.sent: dict[str, ProviderMessage] = {}
        self.calls = 0
        self.lookups = 0
        self.next_failures: deque = deque()
        self.by_number: dict[str, Exception] = {}
        self.validity: dict[str, int | None] = {}
        self._sids = itertools.count(1)

    def fail_next(self, *failures) -> None:
        self.next_failures.extend(failures)

    def send(self, *, to, body, status_callback, validity_seconds=None) -> SentMessage:
        self.calls += 1
        if to in self.by_number:
            raise self.by_number[to]
        failure = self.next_failures.popleft() if self.next_failures else None
        if isinstance(failure, Exception):
            raise failure
        sid = f"SM{next(self._sids):032d}"
        self.sent[sid] = ProviderMessage(sid=sid, to=to, status="queued", status_callback=status_callback, body=body)
        self.validity[sid] = validity_seconds
        if failure == LOSE_RESPONSE:
            raise AmbiguousSendError("read timed out after the request was sent")
        return SentMessage(sid=sid, status="queued", segments=1)

    def find_messages(self, *, to) -> list[ProviderMessage]:
        self.lookups += 1
        return [m for m in reversed(self.sent.values()) if m.to == to]

    def to_number(self, to: str) -> list[ProviderMessage]:
        return [m for m in self.sent.values() if m.to == to]


def transient(status: int = 500) -> TransientSendError:
    return TransientSendError(f"HTTP {status}", code=20429 if status == 429 else None, http_status=status)


def permanent(code: int) -> PermanentSendError:
    return PermanentSendError(f"refused {code}", code=code, http_status=400)
