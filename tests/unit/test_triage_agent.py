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


async def test_a_later_batch_is_not_acked_before_an_earlier_one_whose_write_is_still_failing(harness):
    """Batches are written in parallel but acked in offset order: Faust commits the first run of consecutive
    acked offsets, so acking batch 2 while batch 1's write was still failing (a broker just SIGKILLed) committed
    past batch 1 after a rebalance, and its reports were never routed."""
    import asyncio

    from tests.wait_for import wait_for_async

    runtime, writer, _ = harness
    release, attempts = asyncio.Event(), []
    plain_write = writer.write

    async def write(outputs):
        outputs = list(outputs)
        attempts.append([o.key for o in outputs])
        if any(o.key == b"slow-1" for o in outputs):
            await release.wait()  # the broker has not acknowledged batch 1 yet
        return await plain_write(outputs)

    writer.write = write
    async with runtime.app.agents["triage"].test_context() as agent:
        first = await agent.put(incident_bytes(id="slow-1"), key=b"S1", partition=0)
        await wait_for_async(lambda: any(b"slow-1" in keys for keys in attempts), timeout=10)
        second = await agent.put(incident_bytes(id="fast-2"), key=b"S1", partition=0)
        await wait_for_async(lambda: [o.key for o in writer.on("audit.v1")] == [b"fast-2"], timeout=10)
        assert not first.message.acked and not second.message.acked, "batch 2 acked past the unwritten batch 1"
        release.set()
        await wait_for_async(lambda: first.message.acked and second.message.acked, timeout=10)
    assert [o.key for o in writer.on("audit.v1")] == [b"fast-2", b"slow-1"]
