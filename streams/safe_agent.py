"""How every item 18/22 agent consumes: per-message error handling, outputs durable before the ack.

Faust acks (and later commits) a message whose agent raised, so a bug would skip it silently. Here each
message is handled on its own: a contract error or any other exception dead-letters that message (source
topic, partition, offset, reason) and the batch goes on. Outputs of a batch, including the changelog
records of the table state it changed (``table_put``), are written with acks=all and awaited before any
event of the batch is acked, as the triage agent does (``noack_take`` + write, then ack).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from contracts.errors import ContractError, FieldError
from streams.deadletter import dead_letter
from streams.writer import write_durably
from streams.triage import Output

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


async def handle_safely(event, handle: Handler, rejected_by: str, clock) -> list[Output]:
    """The handler's outputs, or one dead letter naming why this message could not be handled."""
    msg = event.message
    try:
        return await handle(event)
    except ContractError as exc:
        return [rejected(event, exc.errors, rejected_by, clock)]
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug must neither crash the agent nor skip the message silently
        log.exception("%s failed on %s[%s]@%s", rejected_by, msg.topic, msg.partition, msg.offset)
        reason = f"internal error: {type(exc).__name__}: {exc}"[:300]
        return [rejected(event, [FieldError("(processing)", reason)], rejected_by, clock)]


async def each_message(stream, handle: Handler, *, writer, clock, rejected_by: str, batch: int = 1,
                       within: float = 0.05, lock: asyncio.Lock | None = None) -> None:
    """Run ``handle`` over the stream; ``lock`` (if any) is held from the first message of a batch until its
    outputs are acknowledged, so a timer sharing the state never sees it half-written.
    ``batch`` 1 (the default) handles each message at its arrival time, as the windowed agents need; a
    high-volume agent (holdings) takes larger batches, one acknowledged write each."""
    async for events in stream.noack_take(batch, within=within):
        if lock is None:
            outputs = [o for event in events for o in await handle_safely(event, handle, rejected_by, clock)]
            await write_durably(writer, outputs)
        else:
            async with lock:
                outputs = [o for event in events for o in await handle_safely(event, handle, rejected_by, clock)]
                await write_durably(writer, outputs)
        for event in events:
            await stream.ack(event)
