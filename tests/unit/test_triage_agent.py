"""The Faust triage agent in Faust's test context, with a fake writer port (no broker)."""

from __future__ import annotations

import streams.triage_agent as triage_agent
from contracts.codec import decode
from contracts.events import DeadLetteredEvent
from tests.agents import handle_all
from tests.factories import incident_bytes


async def _feed(app, messages):
    await handle_all(app, "triage", messages)


async def test_duplicate_report_is_routed_once(harness):
    runtime, writer, _ = harness
    app = runtime.app
    await _feed(app, [(b"S1", incident_bytes(id="dup-1")), (b"S1", incident_bytes(id="dup-1")),
                      (b"S1", incident_bytes(id="dup-2"))])
    audited = [o.key for o in writer.on("audit.v1")]
    assert audited == [b"dup-1", b"dup-2"]
    assert runtime.stats.duplicates == 1
    changelog = [o for o in writer.written if isinstance(o.topic, str) and o.topic.endswith("triage-seen-changelog")]
    assert [o.key for o in changelog] == [b'"dup-1"', b'"dup-2"'], "dedup marks are written with the batch"


async def test_bad_input_is_dead_lettered_and_the_agent_keeps_going(harness):
    runtime, writer, _ = harness
    app = runtime.app
    await _feed(app, [(b"S1", b"{broken"), (b"S1", incident_bytes(id="ok-1", severity="apocalyptic")),
                      (b"S1", incident_bytes(id="ok-2"))])
    dead = [decode(o.value, DeadLetteredEvent).data for o in writer.on("deadletter.v1")]
    assert [d.errors[0].field for d in dead] == ["(body)", "data.severity"]
    assert [o.key for o in writer.on("audit.v1")] == [b"ok-2"]


async def test_a_bug_dead_letters_that_message_only(harness, monkeypatch):
    runtime, writer, _ = harness
    app = runtime.app
    real_route = triage_agent.route

    def flaky(event, now, received_at=None):
        if event.id == "boom":
            raise ZeroDivisionError("bug")
        return real_route(event, now, received_at=received_at)

    monkeypatch.setattr(triage_agent, "route", flaky)
    await _feed(app, [(b"S1", incident_bytes(id="boom")), (b"S1", incident_bytes(id="after"))])
    dead = [decode(o.value, DeadLetteredEvent).data for o in writer.on("deadletter.v1")]
    assert len(dead) == 1 and "internal error: ZeroDivisionError" in dead[0].reason
    assert [o.key for o in writer.on("audit.v1")] == [b"after"]
