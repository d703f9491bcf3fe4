"""Dead letters of the streams worker: the shared policy (contracts/dlq.py) as Outputs, and the hard stop.

The limit stops the worker *before* the batch is acked (exit 70), so nothing is committed past messages
that were dead-lettered because of a broken deploy.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime

from contracts.dlq import DeadLetterLimitExceeded, dead_letter_event
from contracts.errors import ContractError, FieldError
from contracts.topics import DEADLETTER
from streams.output import Output

log = logging.getLogger("childsafe.streams")
EXIT_DEADLETTER_LIMIT = 70


def refuse_oversized(value: bytes | None, limit: int) -> None:
    """The HTTP intake's body limit also holds for reports written by plain Kafka clients."""
    if value is not None and len(value) > limit:
        raise ContractError([FieldError("(body)", f"at most {limit} bytes", f"{len(value)} bytes")])


def dead_letter(*, topic: str, partition: int, offset: int, key: bytes | None, value: bytes,
                errors: list[FieldError], rejected_by: str, now: datetime) -> Output:
    event = dead_letter_event(topic=topic, partition=partition, offset=offset, key=key, value=value, errors=errors,
                              rejected_by=rejected_by, now=now)
    return Output(DEADLETTER, topic.encode(), event.to_bytes())


def stop_worker(exc: DeadLetterLimitExceeded) -> None:
    """Exit at once, before the batch is acked: Faust would otherwise ack (and commit) past a crashed agent."""
    log.critical("%s", exc)
    os._exit(EXIT_DEADLETTER_LIMIT)
