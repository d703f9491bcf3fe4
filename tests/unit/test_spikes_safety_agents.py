"""Spike and campus-safety agents in Faust's test context with a fake clock and a fake writer (no broker)."""

from __future__ import annotations

import json
from datetime import timedelta

from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.events import AlertRequestedEvent
from tests.agents import handled
from tests.factories import incident_bytes
from tests.factories import safety_report_bytes as _report


def _alerts(writer, kind: str):
    return [a for a in (decode(o.value, AlertRequestedEvent).data for o in writer.on("alerts.requested.v1"))
            if a.kind.value == kind]


def _food_poisoning(n: int, clock: FakeClock, school: str = "SCH-310115-0001") -> tuple[bytes, bytes]:
    return school.encode(), incident_bytes(id=f"fp-{school}-{n}", category="food_poisoning", school_id=school,
                                           occurred_at=clock.now().isoformat())


async def _put(agent, value: bytes, key: bytes) -> None:
    """The school count runs inside the triage agent: each report is handled at the clock's time before the next."""
    await handled(agent, value, key=key)


async def test_three_food_poisoning_reports_raise_one_alert_per_window(harness):
    runtime, writer, clock = harness
    app = runtime.app
    async with app.agents["triage"].test_context() as agent:
        for n in range(5):  # five reports within hours: one alert, not three
            await _put(agent, _food_poisoning(n, clock)[1], key=b"SCH-310115-0001")
            clock.advance(timedelta(hours=2))
        await _put(agent, _food_poisoning(4, clock)[1], key=b"SCH-310115-0001")  # redelivered: not counted twice
        assert len(_alerts(writer, "outbreak")) == 1
        clock.advance(timedelta(hours=24))
        for n in range(5, 8):
            await _put(agent, _food_poisoning(n, clock)[1], key=b"SCH-310115-0001")
            clock.advance(timedelta(minutes=30))
        await _put(agent, incident_bytes(id="fall-1", category="fall", occurred_at=clock.now().isoformat()), key=b"S")
    alerts = _alerts(writer, "outbreak")
    assert len(alerts) == 2 and len({a.alert_id for a in alerts}) == 2
    assert {k.value for k in alerts[0].audience.agencies} == {"health", "education", "market_regulation"}  # food safety (DOMAIN.md)
    assert alerts[0].audience.district_code == "310115"
    forwarded = [o for o in writer.written if isinstance(o.topic, str) and o.topic.endswith("spike-districts")]
    assert len(forwarded) == 8, "each new food-poisoning report goes on to the district count (not the fall, " \
                                "not the redelivered one: triage's dedup drops it first)"


async def test_reports_spread_over_more_than_a_window_never_alert(harness):
    runtime, writer, clock = harness
    app = runtime.app
    async with app.agents["triage"].test_context() as agent:
        for n in range(6):
            await _put(agent, _food_poisoning(n, clock)[1], key=b"SCH-310115-0001")
            clock.advance(timedelta(hours=13))
    assert _alerts(writer, "outbreak") == []


async def test_district_spike_across_schools_alerts_once(harness):
    runtime, writer, clock = harness
    app = runtime.app
    async with app.agents["spikes-district"].test_context() as agent:
        for n in range(7):
            at = clock.now().timestamp()
            await handled(agent, json.dumps([f"r{n}", "food_poisoning", "310115", at]).encode(), key=b"310115")
            clock.advance(timedelta(minutes=20))
    [alert] = _alerts(writer, "outbreak")
    assert alert.alert_id.startswith("outbreak:district:310115:food_poisoning:")


async def test_failed_critical_item_opens_hazard_followup_with_deadline(harness):
    runtime, writer, clock = harness
    app = runtime.app
    items = [{"area": "fire_safety", "item": "灭火器在有效期内", "result": "fail", "critical": True},
             {"area": "buildings", "item": "墙面裂缝", "result": "fail", "critical": False},
             {"area": "food_safety", "item": "留样", "result": "pass", "critical": True}]
    async with app.agents["safety-reports"].test_context() as agent:
        await handled(agent, _report(clock, {"kind": "inspection", "items": items}), key=b"SCH-310115-0001")
        await handled(agent, _report(clock, {"kind": "inspection", "items": items[1:]}, id="sr-2"), key=b"SCH-310115-0001")
        await handled(agent, b'{"not": "a report"}', key=b"SCH-310115-0001")
    alerts = _alerts(writer, "hazard_followup")
    assert sorted(a.audience.kind for a in alerts) == ["agency_duty_officers", "school_contacts"]
    assert {a.params["deadline"] for a in alerts} == {(clock.now() + timedelta(days=3)).date().isoformat()}
    assert "灭火器在有效期内" in alerts[0].params["hazard"] and "fire_safety" not in alerts[0].params["hazard"]  # its words, no English key
    assert len(writer.on("deadletter.v1")) == 1


async def test_school_without_evacuation_drill_in_period_is_flagged_once(harness):
    runtime, writer, clock = harness
    app = runtime.app
    check = runtime.check_drills
    async with app.agents["safety-reports"].test_context() as agent:
        held = (clock.now() - timedelta(days=10)).date().isoformat()
        await handled(agent, _report(clock, {"kind": "drill", "drill_kind": "evacuation", "held_on": held,
                                        "participants": 420}), key=b"SCH-310115-0001")
        await handled(agent, _report(clock, {"kind": "drill", "drill_kind": "fire", "held_on": held, "participants": 40},
                                school="SCH-310115-0002", id="sr-2"), key=b"SCH-310115-0002")
        assert await check() == 0
        clock.advance(timedelta(days=181))  # school 1: 191 days since its drill; school 2: never, first seen 181 days ago
        assert await check() == 2
        assert await check() == 0, "flagged once per missed period"
        await handled(agent, _report(clock, {"kind": "drill", "drill_kind": "evacuation",
                                        "held_on": clock.now().date().isoformat(), "participants": 400},
                                id="sr-3"), key=b"SCH-310115-0001")
        clock.advance(timedelta(days=100))
        assert await check() == 0, "school 1 drilled again; school 2 is already flagged for its period"
        clock.advance(timedelta(days=81))
        assert await check() == 1
    alerts = _alerts(writer, "drill_overdue")
    assert len(alerts) == 6 and len({a.alert_id for a in alerts}) == 6
