"""The Faust triage agent in Faust's test context, with a fake writer port (no broker)."""

from __future__ import annotations

import asyncio

import pytest

import streams.app as streams_app
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.events import DeadLetteredEvent
from streams.app import StreamsConfig, create_app
from tests.factories import incident_bytes


class FakeWriter:
    """The writer port with observable state: everything the agent had acknowledged."""

    def __init__(self):
        self.written = []

    async def write(self, outputs):
        self.written.extend(outputs)
        return []

    def on(self, suffix: str):
        """Records written to a catalogue topic (changelog records are internal and have no suffix)."""
        return [o for o in self.written if getattr(o.topic, "suffix", None) == suffix]


@pytest.fixture()
def harness():
    writer = FakeWriter()
    app = create_app(StreamsConfig(bootstrap="127.0.0.1:1", namespace="unit", batch_within_s=0.01),
                     clock=FakeClock(), writer=writer)
    app.finalize()
    return app, writer


async def _feed(app, messages, pause=0.05):
    async with app.agents["triage"].test_context() as agent:
        for key, value in messages:
            await agent.put(value, key=key)
            await asyncio.sleep(pause)
        await asyncio.sleep(0.2)


async def test_duplicate_report_is_routed_once(harness):
    app, writer = harness
    await _feed(app, [(b"S1", incident_bytes(id="dup-1")), (b"S1", incident_bytes(id="dup-1")),
                      (b"S1", incident_bytes(id="dup-2"))])
    audited = [o.key for o in writer.on("audit.v1")]
    assert audited == [b"dup-1", b"dup-2"]
    assert app.childsafe["stats"].duplicates == 1
    changelog = [o for o in writer.written if isinstance(o.topic, str) and o.topic.endswith("triage-seen-changelog")]
    assert [o.key for o in changelog] == [b'"dup-1"', b'"dup-2"'], "dedup marks are written with the batch"


async def test_bad_input_is_dead_lettered_and_the_agent_keeps_going(harness):
    app, writer = harness
    await _feed(app, [(b"S1", b"{broken"), (b"S1", incident_bytes(id="ok-1", severity="apocalyptic")),
                      (b"S1", incident_bytes(id="ok-2"))])
    dead = [decode(o.value, DeadLetteredEvent).data for o in writer.on("deadletter.v1")]
    assert [d.errors[0].field for d in dead] == ["(body)", "data.severity"]
    assert [o.key for o in writer.on("audit.v1")] == [b"ok-2"]


async def test_a_bug_dead_letters_that_message_only(harness, monkeypatch):
    app, writer = harness
    real_route = streams_app.route

    def flaky(event, now, received_at=None):
        if event.id == "boom":
            raise ZeroDivisionError("bug")
        return real_route(event, now, received_at=received_at)

    monkeypatch.setattr(streams_app, "route", flaky)
    await _feed(app, [(b"S1", incident_bytes(id="boom")), (b"S1", incident_bytes(id="after"))])
    dead = [decode(o.value, DeadLetteredEvent).data for o in writer.on("deadletter.v1")]
    assert len(dead) == 1 and "internal error: ZeroDivisionError" in dead[0].reason
    assert [o.key for o in writer.on("audit.v1")] == [b"after"]
