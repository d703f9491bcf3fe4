"""How every item 18/22 agent consumes: per-message error handling, outputs durable before the ack.

Faust acks (and later commits) a message whose agent raised, so a bug would skip it silently. Here each
message is handled on its own: a contract error or any other exception dead-letters that message (source
topic, partition, offset, reason) and the batch goes on. Outputs of a batch, including the changelog
records of the table state it changed (``table_put``, written after the outputs: ``write_durably``), are
written with acks=all and awaited before any event of the batch is acked, as the triage agent does
(``noack_take`` + write, then ack).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from contracts.dlq import DeadLetterLimit, DeadLetterLimitExceeded, DeadLetterWindow, reason_class
from contracts.errors import ContractError, FieldError
from streams.deadletter import dead_letter, stop_worker
from streams.metrics import record_agent_batch
from streams.output import Output
from streams.writer import write_durably

log = logging.getLogger("childsafe.streams.agents")
Handler = Callable[[object], Awaitable[list[Output]]]


def table_put(table, partition: int, key: str, value) -> Output:
    """Set (or, with None, delete) a table entry in memory and return its changelog record, to be written
    with the batch: the state is durable no later than the outputs it caused."""
    if value is None:
        table.data.pop(key, None)
    else:
        table.data[key] = value
    return Output(table.changelog_topic.get_topic_name(), json.dumps(key).encode(),
                  None if value is None else json.dumps(value).encode(), partition=partition)


def rejected(event, errors: list[FieldError], rejected_by: str, clock) -> Output:
    msg = event.message
    value = msg.value if isinstance(msg.value, bytes) else bytes(msg.value or b"")
    return dead_letter(topic=msg.topic, partition=msg.partition, offset=msg.offset, key=msg.key, value=value,
                       errors=errors, rejected_by=rejected_by, now=clock.now())


class Rejection(Exception):
    """A message could not handle a message; ``letter`` is its dead letter, ``reason`` the class."""

    def __init__(self, letter: Output, reason: str):
        super().__init__(reason)
        self.letter, self.reason = letter, reason


async def _handle(event, handle: Handler, rejected_by: str, clock) -> list[Output]:
    msg = event.message
    try:
        return await handle(event)
    except ContractError as exc:
        raise Rejection(rejected(event, exc.errors, rejected_by, clock), reason_class(exc.errors)) from None
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug must neither crash the agent nor skip the message silently
        log.exception("%s failed on %s[%s]@%s", rejected_by, msg.topic, msg.partition, msg.offset)
        errors = [FieldError("(processing)", f"internal error: {type(exc).__name__}: {exc}"[:300])]
        raise Rejection(rejected(event, errors, rejected_by, clock), "internal") from None


async def each_message(stream, handle: Handler, *, writer, clock, rejected_by: str, limit: DeadLetterLimit,
                       batch: int = 1, within: float = 0.05, lock: asyncio.Lock | None = None) -> None:
    """Run ``handle`` over the stream; ``lock`` (if any) is held from the first message of a batch until its
    outputs are acknowledged, so a timer sharing the state never sees it half-written.
    ``batch`` 1 (the default) handles each message at its arrival time, as the windowed agents need; a
    high-volume agent (holdings) takes larger batches, one acknowledged write each.
    ``limit`` is the worker's dead-letter limit: tripping it stops the worker before the batch is acked."""
    window = DeadLetterWindow(limit, rejected_by)

    async def run(events) -> None:
        outputs: list[Output] = []
        letters: list[tuple[str, str]] = []
        for event in events:
            try:
                outputs.extend(await _handle(event, handle, rejected_by, clock))
                window.record(False)
            except Rejection as exc:
                outputs.append(exc.letter)
                letters.append((event.message.topic, exc.reason))
                window.record(True)
        await write_durably(writer, outputs)
        if events:
            record_agent_batch(events[0].message.topic, len(events) - len(letters), rejected_by, letters)

    async for events in stream.noack_take(batch, within=within):
        try:
            if lock is None:
                await run(events)
            else:
                async with lock:
                    await run(events)
        except DeadLetterLimitExceeded as exc:
            stop_worker(exc)
            raise
        for event in events:
            await stream.ack(event)
