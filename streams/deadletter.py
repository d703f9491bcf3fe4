"""Dead letters: rejected input kept byte-exact with its origin and reason, and a limit on how many.

The limit (after arroyo's DlqLimit) stops a worker that starts dead-lettering nearly everything:
a broken deploy must not quietly drain a topic into the dead-letter topic.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime

from contracts.deadletter import DeadLettered
from contracts.errors import ChildSafeError, ContractError, FieldError
from contracts.events import DeadLetteredEvent
from contracts.topics import DEADLETTER
from streams.triage import Output


class DeadLetterLimitExceeded(ChildSafeError):
    """Too many recent messages were rejected: check the last deploy and the contracts before restarting."""


def refuse_oversized(value: bytes | None, limit: int) -> None:
    """The HTTP intake's body limit also holds for reports written by plain Kafka clients."""
    if value is not None and len(value) > limit:
        raise ContractError([FieldError("(body)", f"at most {limit} bytes", f"{len(value)} bytes")])


def dead_letter(*, topic: str, partition: int, offset: int, key: bytes | None, value: bytes,
                errors: list[FieldError], rejected_by: str, now: datetime) -> Output:
    record = DeadLettered.of(topic=topic, partition=partition, offset=offset, key=key, value=value, errors=errors,
                             rejected_by=rejected_by, rejected_at=now)
    event = DeadLetteredEvent.new(record, source=f"/childsafe/{rejected_by}", subject=topic,
                                  id=f"dl:{topic}:{partition}:{offset}", time=now)
    return Output(DEADLETTER, topic.encode(), event.to_bytes())


class DeadLetterLimit:
    """Trips when more than ``ratio`` of the last ``window`` messages were dead-lettered."""

    def __init__(self, ratio: float, window: int):
        self.ratio = ratio
        self.window = window
        self._recent: deque[bool] = deque(maxlen=window)
        self._rejected = 0

    def record(self, rejected: bool) -> None:
        if len(self._recent) == self.window and self._recent[0]:
            self._rejected -= 1
        self._recent.append(rejected)
        self._rejected += rejected
        if len(self._recent) == self.window and self._rejected > self.ratio * self.window:
            raise DeadLetterLimitExceeded(
                f"{self._rejected} of the last {self.window} messages were dead-lettered "
                f"(limit {self.ratio:.0%}); stopping without committing them")
