"""Driving Faust agents in their test context: put a message, then wait (polling, with a deadline) until the
agent acknowledged it, which it does only after its outputs were written. No fixed sleeps."""

from __future__ import annotations

from contracts.clock import FakeClock
from streams.app import StreamsRuntime, create_app
from streams.config import StreamsConfig
from streams.idempotency import MemoryIdempotencyLedger
from tests.fakes import FakeWriter
from tests.wait_for import wait_for_async


def streams_app(clock: FakeClock | None = None) -> tuple[StreamsRuntime, FakeWriter, FakeClock]:
    """The streams app on a fake writer, a fake clock and an in-memory idempotency ledger (no broker)."""
    writer, clock = FakeWriter(), clock or FakeClock()
    runtime = create_app(StreamsConfig(bootstrap="127.0.0.1:1", namespace="unit", batch_within_s=0.01), clock=clock,
                         writer=writer, ledger=MemoryIdempotencyLedger())
    runtime.app.finalize()
    return runtime, writer, clock


async def handled(agent, value: bytes, key: bytes | None = None, partition: int | None = None):
    """Put one message and return once the agent has acked it (its outputs are written by then)."""
    event = await agent.put(value, key=key, partition=partition)
    await wait_for_async(lambda: event.message.acked, timeout=10)
    return event


async def handle_all(app, agent_name: str, messages, partition: int | None = None):
    """Each (key, value) through the named agent, one after the other, each acknowledged before the next."""
    async with app.agents[agent_name].test_context() as agent:
        for key, value in messages:
            await handled(agent, value, key=key, partition=partition)
        return agent
