"""The one set of fakes (cosmicpython's tests/unit/fakes): each fakes a port, with observable state.

- ``FakeSmsGateway``: the SMS gateway port (what it holds, failures a test injects);
- ``FakeProducer``: the ``AcknowledgedProducer`` port (``send(topic, key, value)``, ``flush``);
- ``FakeSink``: a topic sink (``send(key, value)``, ``flush``), which can refuse the n-th flush;
- ``FakeWriter``: the streams worker's async writer port;
- ``record``: a consumed Kafka record as kafka-python hands it to a worker;
- ``guard``: a real outage guard with its own stop event and seeded jitter (what ops/bootstrap gives a worker).
"""

from __future__ import annotations

import itertools
import random
import threading
from collections import deque
from dataclasses import dataclass

from alerts.gateway import AmbiguousSendError, PermanentSendError, ProviderMessage, SentMessage, TransientSendError
from consumers.outage import OutageGuard

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


class FakeProducer:
    """What was sent and acknowledged, in order; ``failing`` makes the next send refuse like a broker that is down."""

    def __init__(self):
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.failing = False

    def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        if self.failing:
            raise RuntimeError("fake broker down")
        self.sent.append((topic, key, value))

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class FakeSink:
    """Keyed values to one topic; refuses the ``fail_on_flush``-th flush once, as an unacknowledged send does."""

    def __init__(self, fail_on_flush: int | None = None):
        self.sent: list[tuple[bytes, bytes]] = []
        self.flushes, self.fail_on_flush = 0, fail_on_flush

    def send(self, key, value) -> None:
        self.sent.append((key, value))

    def flush(self) -> None:
        from consumers.kafka_io import ProduceFailed

        self.flushes += 1
        if self.flushes == self.fail_on_flush:
            raise ProduceFailed("broker down")


class FakeWriter:
    """The streams writer port: everything the agents had acknowledged."""

    def __init__(self):
        self.written = []

    async def write(self, outputs):
        self.written.extend(outputs)
        return []

    def on(self, suffix: str):
        """Records written to a catalogue topic (changelog records are internal and have no suffix)."""
        return [o for o in self.written if getattr(o.topic, "suffix", None) == suffix]


@dataclass(frozen=True)
class ConsumedRecord:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None


def record(topic: str, partition: int, offset: int, value: bytes, key: bytes | None = None) -> ConsumedRecord:
    return ConsumedRecord(topic, partition, offset, value, key)


def guard(worker: str = "test-worker", *, stop: threading.Event | None = None, **options) -> OutageGuard:
    """A real ``OutageGuard`` for a worker under test: its own stop event unless given one, jitter seeded."""
    return OutageGuard(worker, threading.Event() if stop is None else stop, random.Random(7), **options)
