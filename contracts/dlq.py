"""The one dead-letter policy of every agent and consumer: record, id, limit and metric (after arroyo's DlqPolicy).

- ``dead_letter_event`` builds the record (``DeadLettered.of``) in its CloudEvent with an id derived from the
  source topic, partition and offset, so a replay of the same message yields the very same dead letter.
- ``DeadLetterWindow`` applies the ``DeadLetterLimit``: it trips when *more than* ``ratio`` of the last
  ``window`` messages were dead-lettered; a broken deploy must not quietly drain a topic into the DLQ.
- ``DEAD_LETTERS`` (``childsafe_deadletters_total``) is declared here, not per layer, because streams and
  consumers both count it and a process may load both (one name, one collector).
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from prometheus_client import Counter

from contracts.deadletter import DeadLettered
from contracts.errors import ChildSafeError, FieldError
from contracts.events import DeadLetteredEvent

DEAD_LETTERS = Counter(
    "childsafe_deadletters_total", "Messages sent to the dead-letter topic, by source topic suffix, reason "
    "class (malformed, contract, too_large, internal, refused) and the worker that rejected them.",
    ["topic", "reason", "rejected_by"])
REASON_CLASSES = ("malformed", "contract", "too_large", "internal", "refused")


class DeadLetterLimitExceeded(ChildSafeError):
    """Too many recent messages were rejected: check the last deploy and the producer before restarting."""


@dataclass(frozen=True)
class DeadLetterLimit:
    """Stop when more than ``ratio`` of the last ``window`` messages were dead-lettered (ratio 1: never)."""

    ratio: float = 0.9
    window: int = 1000

    def __post_init__(self) -> None:
        if not 0 < self.ratio <= 1:
            raise ValueError(f"dead-letter limit ratio must be in (0, 1], got {self.ratio}")
        if self.window < 1:
            raise ValueError(f"dead-letter limit window must be at least 1 message, got {self.window}")


class DeadLetterWindow:
    """One worker's running count of its last ``limit.window`` messages; ``record`` raises when the limit trips."""

    def __init__(self, limit: DeadLetterLimit, worker: str):
        self.limit, self.worker = limit, worker
        self._recent: deque[bool] = deque(maxlen=limit.window)
        self._rejected = 0

    def record(self, rejected: bool) -> None:
        if len(self._recent) == self.limit.window and self._recent[0]:
            self._rejected -= 1
        self._recent.append(rejected)
        self._rejected += rejected
        if len(self._recent) == self.limit.window and self._rejected > self.limit.ratio * self.limit.window:
            raise DeadLetterLimitExceeded(
                f"{self.worker}: {self._rejected} of the last {self.limit.window} messages were dead-lettered "
                f"(limit {self.limit.ratio:.0%}); stopping without committing them")

    def record_all(self, rejected: Iterable[bool]) -> None:
        for r in rejected:
            self.record(r)


def dead_letter_id(topic: str, partition: int, offset: int) -> str:
    """The dead letter's CloudEvent id: the same source message always gives the same id."""
    return "dl-" + hashlib.sha256(f"{topic}\x00{partition}\x00{offset}".encode()).hexdigest()[:32]


def reason_class(errors: list[FieldError]) -> str:
    """A small fixed set of classes for the metric label; the full reason stays in the dead letter itself."""
    first = errors[0] if errors else None
    if first is None:
        return "refused"
    if first.field == "(processing)":
        return "internal"
    if first.field == "(body)":
        return "too_large" if first.reason.startswith("at most") else "malformed"
    return "contract"


def topic_suffix(topic: str) -> str:
    """`<namespace>.incidents.reported.v1` → `incidents.reported.v1`: a bounded label whatever the namespace."""
    return topic.split(".", 1)[1] if "." in topic else topic


def dead_letter_event(*, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                      errors: list[FieldError], rejected_by: str, now: datetime,
                      reason: str | None = None) -> DeadLetteredEvent:
    """The one way to build a dead letter: the record, byte-exact, in an event whose id replays identically."""
    record = DeadLettered.of(topic=topic, partition=partition, offset=offset, key=key, value=value, errors=errors,
                             rejected_by=rejected_by, rejected_at=now, reason=reason)
    return DeadLetteredEvent.new(record, source=f"/childsafe/{rejected_by}", subject=topic[:200],  # Kafka allows 249
                                 id=dead_letter_id(topic, partition, offset), time=now)


def count_dead_letters(rejected_by: str, letters: Iterable[tuple[str, str]]) -> None:
    """Count durable dead letters, given as (source topic, reason class): call once they are written."""
    tally: dict[tuple[str, str], int] = {}
    for topic, reason in letters:
        label = (topic_suffix(topic), reason)
        tally[label] = tally.get(label, 0) + 1
    for (topic, reason), n in tally.items():
        DEAD_LETTERS.labels(topic, reason, rejected_by).inc(n)
