"""Every item 18/22 agent in Faust's test context: a bad message (undecodable, or one that makes the handler
raise) is dead-lettered with its topic, partition, offset and reason, and the next message is still handled.
Timers (missing-child widening, drill check) skip a failing item and go on with the others."""

from __future__ import annotations

import json
from datetime import timedelta

import streams.emergency.agents as emergency_agents
import streams.recalls.agents as recall_agents
import streams.safety.agents as safety_agents
import streams.spikes.agents as spike_agents
from contracts.codec import decode
from contracts.events import AlertRequestedEvent, DeadLetteredEvent
from contracts.spikes import SpikeReportForwarded
from streams.emergency.atlas import SchoolPlace
from tests.agents import handle_all
from tests.cap_samples import cap
from tests.factories import incident_bytes
from tests.factories import safety_report_bytes as _report
from tests.recall_fixtures import SCOOTER_GTIN, holdings_event, recall_event

SCOOTER = {"product_name": "儿童滑板车", "brand": "示例牌", "model": "HB-200", "batch": "20260601",
           "barcode": SCOOTER_GTIN}
FAILED_FIRE = {"kind": "inspection", "items": [{"area": "fire_safety", "item": "灭火器", "result": "fail",
                                                "critical": True}]}


def dead(writer):
    return [decode(o.value, DeadLetteredEvent).data for o in writer.on("deadletter.v1")]


def alerts(writer, kind=None):
    found = [decode(o.value, AlertRequestedEvent).data for o in writer.on("alerts.requested.v1")]
    return [a for a in found if kind is None or a.kind.value == kind]


async def feed(app, agent_name: str, messages):
    return await handle_all(app, agent_name, messages, partition=0)


def boom_once(real, trigger):
    """``real`` that raises for the first call where ``trigger(*args)`` holds (a bug on one message)."""
    state = {"fired": False}

    def flaky(*args, **kwargs):
        if not state["fired"] and trigger(*args, **kwargs):
            state["fired"] = True
            raise ZeroDivisionError("bug on one message")
        return real(*args, **kwargs)
    return flaky


def assert_dead_lettered(writer, topic_end: str, offsets: list[int], reason: str):
    letters = dead(writer)
    assert [(d.source_partition, d.source_offset) for d in letters] == [(0, o) for o in offsets], letters
    assert all(d.source_topic.endswith(topic_end) for d in letters)
    assert all(reason in d.reason for d in letters), [d.reason for d in letters]


async def test_recall_holdings_agent(harness, monkeypatch):
    runtime, writer, _ = harness
    app = runtime.app
    monkeypatch.setattr(recall_agents.Holding, "of", classmethod(boom_once(
        recall_agents.Holding.of.__func__, lambda cls, p, h: h.holder_id == "G-BUG")))
    await feed(app, "recall-holdings", [(b"guardian:G-X", b"{broken"),
                                        (b"guardian:G-BUG", holdings_event("G-BUG", SCOOTER).to_bytes()),
                                        (b"guardian:G-OK", holdings_event("G-OK", SCOOTER).to_bytes())])
    assert_dead_lettered(writer, "registrations.holdings.v1", [0, 1], "")
    assert "internal error: ZeroDivisionError" in dead(writer)[1].reason
    assert list(runtime.holdings_index.holdings) == ["guardian:G-OK"]
    changelog = [o for o in writer.written if isinstance(o.topic, str) and o.topic.endswith("recall-holdings-changelog")]
    assert [o.key for o in changelog] == [b'"guardian:G-OK"'], "the table mark is written with the batch"


async def test_recalls_broadcast_agent(harness, monkeypatch):
    runtime, writer, _ = harness
    app = runtime.app
    monkeypatch.setattr(recall_agents, "disclosure_record", boom_once(
        recall_agents.disclosure_record, lambda name, r, now: r.data.recall_number == "SAMR-BUG"))
    await feed(app, "recalls", [(b"R", b"not json"),
                                (b"R", recall_event("ev-bug", recall_number="SAMR-BUG").to_bytes()),
                                (b"R", recall_event("ev-ok", recall_number="SAMR-OK").to_bytes())])
    assert_dead_lettered(writer, "recalls.published.v1", [0, 1], "")
    probes = [o for o in writer.written if isinstance(o.topic, str) and o.topic.endswith("recall-probes")]
    assert {o.key for o in probes} == {b"SAMR-OK"} and len(probes) == 6, "one probe per holdings partition"


async def test_recall_match_agent(harness, monkeypatch):
    runtime, writer, _ = harness
    app = runtime.app
    await feed(app, "recall-holdings", [(b"guardian:G-EXACT", holdings_event("G-EXACT", SCOOTER).to_bytes())])
    monkeypatch.setattr(recall_agents, "plan", boom_once(recall_agents.plan, lambda ev, *a: ev.id == "ev-bug"))
    await feed(app, "recall-match", [(b"SAMR-1", b"\xff\xfe"), (b"SAMR-1", recall_event("ev-bug").to_bytes()),
                                     (b"SAMR-1", recall_event("ev-ok").to_bytes())])
    assert_dead_lettered(writer, "recall-probes", [0, 1], "")
    [alert] = alerts(writer, "recall")
    assert alert.audience.guardian_ids == ["G-EXACT"]


async def test_recall_disclosure_agent(harness):
    runtime, writer, _ = harness
    app = runtime.app
    entry = {"recall_number": "SAMR-1", "notice_id": "n1", "status": "published", "published_on": "2026-11-20",
             "received_at": "2026-11-29T00:00:00+00:00"}
    await feed(app, "recall-disclosure", [(b"SAMR-0", b"[1, 2"), (b"SAMR-0", b'{"no": "recall number"}'),
                                          (b"SAMR-1", json.dumps(entry).encode())])
    assert_dead_lettered(writer, "recall-disclosures", [0, 1], "")
    assert "KeyError" in dead(writer)[1].reason
    feed_table = app.tables["recall-disclosure"]
    assert list(feed_table.data) == ["SAMR-1"]


async def test_safety_reports_agent(harness, monkeypatch):
    runtime, writer, clock = harness
    app = runtime.app
    monkeypatch.setattr(safety_agents, "hazard_followups", boom_once(
        safety_agents.hazard_followups, lambda report, conf, now: report.id == "sr-bug"))
    await feed(app, "safety-reports", [(b"S", b'{"not": "a report"}'), (b"S", _report(clock, FAILED_FIRE, id="sr-bug")),
                                       (b"S", _report(clock, FAILED_FIRE, id="sr-ok"))])
    assert_dead_lettered(writer, "safety.reports.v1", [0, 1], "")
    assert len(alerts(writer, "hazard_followup")) == 2


async def test_school_spike_count_inside_triage(harness, monkeypatch):
    """Undecodable incidents are dead-lettered by triage; a bug in the spike count costs no report its routing
    (the report is still triaged, only not counted) and the reports after it still make a spike."""
    runtime, writer, clock = harness
    app = runtime.app
    monkeypatch.setattr(spike_agents, "observe", boom_once(spike_agents.observe, lambda state, rid, *a: rid == "fp-bug"))
    reports = [(b"S", b"{broken")] + [(b"S1", incident_bytes(id=i, category="food_poisoning", school_id="SCH-310115-0001",
                                                             occurred_at=clock.now().isoformat()))
                                      for i in ("fp-bug", "fp-1", "fp-2", "fp-3")]
    await feed(app, "triage", reports)
    assert_dead_lettered(writer, "incidents.reported.v1", [0], "not valid JSON")
    assert [o.key for o in writer.on("audit.v1")] == [b"fp-bug", b"fp-1", b"fp-2", b"fp-3"]
    assert len(alerts(writer, "outbreak")) == 1, "the three reports after the bad one still make a spike"


async def test_spikes_district_agent(harness, monkeypatch):
    runtime, writer, clock = harness
    app = runtime.app
    at = clock.now().timestamp()
    good = [(b"310115", SpikeReportForwarded(report_id=f"r{n}", kind="food_poisoning", district_code="310115",
                                             occurred_at_s=at).to_bytes()) for n in range(4)]
    legacy = [(b"310115", json.dumps(["r4", "food_poisoning", "310115", at]).encode())]  # written before the contract
    await feed(app, "spikes-district", [(b"310115", b'["only", "two"]'), (b"310115", b"garbage"),
                                        (b"310115", b'{"report_id": "r9", "kind": "food_poisoning"}')] + good + legacy)
    assert_dead_lettered(writer, "spike-districts", [0, 1, 2], "")
    assert [d.errors[0].field for d in dead(writer)] == ["(body)", "(body)", "district_code"]
    assert "expected [report_id, kind" in dead(writer)[0].reason and "not JSON" in dead(writer)[1].reason
    assert len(alerts(writer, "outbreak")) == 1


async def test_emergency_alerts_agent(harness, monkeypatch):
    runtime, writer, _ = harness
    app = runtime.app
    monkeypatch.setattr(emergency_agents, "thread_root", boom_once(
        emergency_agents.thread_root, lambda alert: alert.identifier == "A-BUG"))
    await feed(app, "emergency-alerts", [(b"A", b"<alert/>"), (b"A", cap("A-BUG").to_bytes()),
                                         (b"A", cap("A-1").to_bytes())])
    assert_dead_lettered(writer, "emergency.alerts.v1", [0, 1], "")
    threads = [o for o in writer.written if isinstance(o.topic, str) and o.topic.endswith("emergency-threads")]
    assert len(threads) == 1


async def test_emergency_threads_agent(harness, monkeypatch):
    runtime, writer, _ = harness
    app = runtime.app
    runtime.emergency.atlas.put(SchoolPlace("S-IN-POLY", "310115", 31.20, 121.60), "S-IN-POLY")
    runtime.emergency.atlas_ready.set()
    monkeypatch.setattr(emergency_agents, "handle_thread", boom_once(
        emergency_agents.handle_thread, lambda ev, *a: ev.data.identifier == "A-BUG"))
    drill_on_actual = cap("A-3", msg_type="Update", status="Exercise", refs=["A-1"])
    await feed(app, "emergency-threads", [
        (b"x", b"{}"), (b"sender@example.invalid,A-BUG", cap("A-BUG").to_bytes()),
        (b"sender@example.invalid,A-1", cap("A-1").to_bytes()),
        (b"sender@example.invalid,A-1", drill_on_actual.to_bytes()),
        (b"sender@example.invalid,A-2", cap("A-2").to_bytes())])
    assert_dead_lettered(writer, "emergency-threads", [0, 1, 3], "")
    assert "references a" in dead(writer)[2].reason and dead(writer)[2].errors[0].field == "data.status"
    assert len(alerts(writer, "cap_emergency")) == 2, "A-1 and A-2 both reach their schools"


async def test_widening_timer_skips_a_failing_thread_and_goes_on(harness, monkeypatch):
    runtime, writer, clock = harness
    app = runtime.app
    atlas = runtime.emergency.atlas
    for km in (50, 150):
        atlas.put(SchoolPlace(f"S-{km:03d}KM", "620100", 40.0 + km / 111.2, 100.0), f"S-{km:03d}KM")
    runtime.emergency.atlas_ready.set()
    from tests.cap_samples import missing  # a missing-child alert at (40.0, 100.0)

    await feed(app, "emergency-threads", [(b"r1", missing("MC-1").to_bytes()), (b"r2", missing("MC-2").to_bytes())])
    clock.advance(timedelta(hours=1, minutes=1))
    real = emergency_agents.widen
    monkeypatch.setattr(emergency_agents, "widen", lambda state, *a: (_ for _ in ()).throw(ValueError("bad state"))
                        if state["missing"]["root"].endswith("MC-1") else real(state, *a))
    written = await runtime.emergency.widen()
    assert written == 1, "MC-2's second ring went out although MC-1 failed"
    monkeypatch.setattr(emergency_agents, "widen", real)
    assert await runtime.emergency.widen() == 1, "MC-1 is retried on the next tick"
