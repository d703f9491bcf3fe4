"""Issue 9's CAP bullets, one regression test each, over the official OASIS CAP 1.2 examples (written out in
tests/fixtures/cap/) and made-up alerts: expires, effective/onset (injected clock), Draft/System/Test/
Exercise, the priority table, every geocode and GB/T 2260 levels, info by language, AMBER-style alerts
without free text, and Update/Cancel only from the thread's original sender (issue 10)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alerts.composition import Recipient, compose
from contracts.cap import from_cap, to_cap
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.common import Language, Priority
from contracts.emergency import Area, EmergencyAlertIssued
from contracts.errors import ContractError
from contracts.events import AlertCancelledEvent, AlertRequestedEvent, AuditRecordedEvent, EmergencyAlertIssuedEvent
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas, SchoolPlace
from streams.emergency.geo import geocode_covers
from streams.emergency.semantics import priority
from streams.emergency.threads import ExerciseMismatch, handle, release_due

FIXTURES = Path(__file__).parent.parent / "fixtures" / "cap"
START = FakeClock().now()
# Fictional schools in Shanghai's districts (GB/T 2260): Yangpu 310110, Minhang 310112, Baoshan 310113,
# Pudong 310115, Huangpu 310101; one in Suzhou (320500) and one in Beijing (110101).
ATLAS = SchoolAtlas([SchoolPlace("S-YANGPU", "310110", 31.27, 121.52), SchoolPlace("S-MINHANG", "310112", 31.11, 121.38),
                     SchoolPlace("S-BAOSHAN", "310113", 31.40, 121.49), SchoolPlace("S-PUDONG", "310115", 31.22, 121.54),
                     SchoolPlace("S-HUANGPU", "310101", 31.23, 121.48), SchoolPlace("S-SUZHOU", "320508", 31.30, 120.60),
                     SchoolPlace("S-BEIJING", "110101", 39.91, 116.40)])
CONF = AlertingConfig()


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def event_of(alert: EmergencyAlertIssued, suffix: str = "") -> EmergencyAlertIssuedEvent:
    return EmergencyAlertIssuedEvent.new(alert, source="/test", id=f"e-{alert.identifier}{suffix}")


def cap(identifier="A-1", sender="authority@example.invalid", refs=(), **changes) -> EmergencyAlertIssued:
    base = dict(identifier=identifier, sender=sender, sent=START, status="Actual", msg_type="Alert", scope="Public",
                categories=["Met"], event="暴雨", urgency="Immediate", severity="Severe", certainty="Observed",
                references=[{"sender": s, "identifier": r, "sent": START} for s, r in refs],
                areas=[{"area_desc": "浦东新区", "geocodes": [{"name": "GB/T2260", "value": "310115"}]}])
    base.update(changes)
    return EmergencyAlertIssued.model_validate(base)


def alerts(outputs):
    return [decode(o.value, AlertRequestedEvent).data for o in outputs if o.topic.suffix == "alerts.requested.v1"]


def cancelled(outputs):
    return [decode(o.value, AlertCancelledEvent).data.alert_id for o in outputs if o.topic.suffix == "alerts.cancelled.v1"]


def records(outputs):
    return [decode(o.value, AuditRecordedEvent).data for o in outputs if o.topic.suffix == "audit.v1"]


def run(alert, state=None, now=START, conf=CONF, atlas=ATLAS):
    return handle(event_of(alert), 0, state, atlas, conf, now)


# -- expires, effective, onset ------------------------------------------------------------------------

def test_oasis_example_2_expired_in_2003_is_recorded_and_not_sent():
    alert = from_cap(fixture("oasis_a2_thunderstorm.xml"))
    first = alert.areas[0].model_dump()
    geo = Area.model_validate({**first, "geocodes": [*first["geocodes"], {"name": "GB/T2260", "value": "310115"}]})
    outputs, _ = run(alert.model_copy(update={"areas": [geo]}))
    assert alerts(outputs) == []
    [rec] = records(outputs)
    assert rec.outcome == "not_sent" and rec.subject == "KSTO1055887203"
    assert "expired at 2003-06-17T16:00:00-07:00" in rec.reason


def test_an_alert_not_yet_expired_is_sent_and_one_expiring_now_is_not():
    assert alerts(run(cap(expires=START + timedelta(minutes=1)))[0])
    assert not alerts(run(cap(expires=START))[0])


@pytest.mark.parametrize("field", ["effective", "onset"])
def test_effective_or_onset_ahead_is_held_until_then_on_the_injected_clock(field):
    clock = FakeClock(START)
    outputs, state = run(cap(**{field: START + timedelta(hours=2)}), now=clock.now())
    assert alerts(outputs) == [] and records(outputs)[0].outcome == "scheduled"
    clock.advance(timedelta(hours=1, minutes=59))
    early, state = release_due(state, ATLAS, CONF, clock.now())
    assert early == []
    clock.advance(timedelta(minutes=1))
    out, state = release_due(state, ATLAS, CONF, clock.now())
    [a] = alerts(out)
    assert a.audience.school_ids == ["S-PUDONG"] and state["scheduled"] == []
    assert release_due(state, ATLAS, CONF, clock.now() + timedelta(hours=1))[0] == [], "sent once"


def test_a_held_alert_that_expires_while_waiting_is_not_sent_and_a_cancel_stops_it():
    held = cap(effective=START + timedelta(hours=1), expires=START + timedelta(minutes=30))
    _, state = run(held)
    out, state = release_due(state, ATLAS, CONF, START + timedelta(hours=1))
    assert alerts(out) == [] and "expired" in records(out)[0].reason
    _, state = run(cap("B-1", effective=START + timedelta(hours=1)))
    _, state = run(cap("B-2", msg_type="Cancel", refs=[("authority@example.invalid", "B-1")]), state)
    assert release_due(state, ATLAS, CONF, START + timedelta(hours=2))[0] == []


# -- status ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", ["Draft", "System"])
def test_draft_and_system_never_send_and_the_record_says_why(status):
    outputs, state = run(cap(status=status))
    assert alerts(outputs) == [] and state is None
    [rec] = records(outputs)
    assert rec.outcome == "not_sent" and status in rec.reason


def test_oasis_example_1_as_a_draft_sends_nothing():
    alert = from_cap(fixture("oasis_a1_homeland_security.xml").replace(b"<status>Actual", b"<status>Draft"))
    assert alerts(run(alert)[0]) == []


def test_test_status_reaches_only_the_configured_test_recipients():
    outputs, _ = run(cap(status="Test"))
    assert alerts(outputs) == [] and "none are configured" in records(outputs)[0].reason
    conf = AlertingConfig(cap_test_schools=("S-BEIJING",))
    [a] = alerts(run(cap(status="Test"), conf=conf)[0])
    assert a.audience.school_ids == ["S-BEIJING"] and a.audience.include_guardians is False and a.exercise


def test_an_exercise_reaches_the_area_marked_as_a_drill_and_never_touches_an_actual_thread():
    [a] = alerts(run(cap(status="Exercise"))[0])
    assert a.audience.school_ids == ["S-PUDONG"] and a.exercise
    assert compose(a, Recipient(to="+8619900010001")).body.startswith("【演练】")
    _, actual = run(cap())
    with pytest.raises(ExerciseMismatch):
        run(cap("X-2", status="Exercise", msg_type="Cancel", refs=[("authority@example.invalid", "A-1")]), actual)


# -- priority -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("urgency,severity,certainty,expected", [
    ("Immediate", "Extreme", "Observed", Priority.EMERGENCY), ("Expected", "Severe", "Likely", Priority.EMERGENCY),
    ("Immediate", "Severe", "Possible", Priority.URGENT), ("Future", "Extreme", "Observed", Priority.URGENT),
    ("Immediate", "Moderate", "Observed", Priority.URGENT), ("Unknown", "Unknown", "Unknown", Priority.URGENT),
    ("Past", "Extreme", "Observed", Priority.NORMAL), ("Immediate", "Minor", "Observed", Priority.NORMAL),
    ("Immediate", "Extreme", "Unlikely", Priority.NORMAL)])
def test_priority_table(urgency, severity, certainty, expected):
    assert priority(cap(urgency=urgency, severity=severity, certainty=certainty)) is expected


def test_oasis_example_3_past_minor_update_is_normal_so_quiet_hours_hold_it():
    alert = from_cap(fixture("oasis_a3_earthquake_update.xml"))
    area = Area.model_validate({"area_desc": "test",
                                "circles": [{"center": {"lat": 31.22, "lon": 121.54}, "radius_km": 1}]})
    [a] = alerts(run(alert.model_copy(update={"areas": [area]}))[0])
    assert a.priority is Priority.NORMAL


# -- geocodes -------------------------------------------------------------------------------------------

def test_every_geocode_of_an_area_is_kept_through_xml_and_reaches_its_district():
    three = [{"name": "GB/T2260", "value": v} for v in ("310110", "310113", "310101")]
    alert = cap(areas=[{"area_desc": "杨浦、宝山、黄浦", "geocodes": three}])
    again = from_cap(to_cap(alert))
    assert [g.value for g in again.areas[0].geocodes] == ["310110", "310113", "310101"]
    [a] = alerts(run(again)[0])
    assert a.audience.school_ids == ["S-BAOSHAN", "S-HUANGPU", "S-YANGPU"]


def test_oasis_example_2_keeps_its_three_same_geocodes():
    alert = from_cap(fixture("oasis_a2_thunderstorm.xml"))
    assert [(g.name, g.value) for g in alert.areas[0].geocodes] == [("SAME", "006109"), ("SAME", "006009"),
                                                                     ("SAME", "006003")]


@pytest.mark.parametrize("code,schools", [
    ("310110", ["S-YANGPU"]),  # a district: exactly it (not 310112-310118)
    ("310100", ["S-BAOSHAN", "S-HUANGPU", "S-MINHANG", "S-PUDONG", "S-YANGPU"]),  # the city
    ("310000", ["S-BAOSHAN", "S-HUANGPU", "S-MINHANG", "S-PUDONG", "S-YANGPU"]),  # the province
    ("320500", ["S-SUZHOU"]), ("110000", ["S-BEIJING"]), ("310111", [])])
def test_gbt2260_codes_match_by_level(code, schools):
    area = [{"area_desc": "x", "geocodes": [{"name": "GB/T2260", "value": code}]}]
    assert ATLAS.in_areas(cap(areas=area).areas) == schools


@given(st.text(max_size=40))
@settings(max_examples=200, deadline=None)
def test_a_hostile_geocode_value_matches_no_school_unless_it_is_six_ascii_digits(value):
    covers = [d for d in ("310110", "310112", "110101") if geocode_covers(value, d)]
    if covers:
        stripped = value.strip()
        assert len(stripped) == 6 and stripped.isascii() and stripped.isdigit()


# -- info by language, AMBER-style alerts ----------------------------------------------------------------

def test_info_blocks_are_chosen_by_the_recipients_language():
    xml = to_cap(cap(event="暴雨红色预警", instruction="请就近避险",
                     translations=[{"language": "en-US", "event": "Red rainstorm warning",
                                    "instruction": "Take shelter nearby"}]))
    [a] = alerts(run(from_cap(xml))[0])
    zh = compose(a, Recipient(to="+8619900010001", language=Language.ZH_CN)).body
    en = compose(a, Recipient(to="+8619900010002", language=Language.EN)).body
    assert "暴雨红色预警" in zh and "请就近避险" in zh and "Red rainstorm" not in zh
    assert "Red rainstorm warning" in en and "Take shelter nearby" in en and "暴雨" not in en


def test_oasis_example_4_amber_alert_goes_out_with_the_missing_child_wording_never_the_childs_name():
    xml = fixture("oasis_a4_amber.xml").replace(b"<valueName>SAME</valueName>\n        <value>006037</value>",
                                                 b"<valueName>GB/T2260</valueName>\n        <value>310115</value>")
    alert = from_cap(xml)
    assert [t.language for t in alert.translations] == ["es-US"]
    [a] = alerts(run(alert)[0])
    assert a.kind.value == "missing_child" and a.params == {} and a.priority is Priority.EMERGENCY
    for language in Language:
        body = compose(a, Recipient(to="+8619900010001", language=language)).body
        assert not any(word in body.upper() for word in ("KHAYRI", "DOE", "BUICK", "5721", "AMBER"))


@pytest.mark.parametrize("event", ["儿童走失", "Missing child", "AMBER Alert", "儿童失踪协查"])
def test_a_missing_child_alert_by_its_event_text_is_sensitive(event):
    [a] = alerts(run(cap(event=event, description="小明，8岁，穿红色外套"))[0])
    assert a.kind.value == "missing_child" and "小明" not in compose(a, Recipient(to="+8619900010001")).body


# -- only the original sender updates or cancels (issue 10) ----------------------------------------------

@pytest.mark.parametrize("msg_type", ["Cancel", "Update"])
def test_another_sender_cannot_update_or_cancel_an_authoritys_thread(msg_type):
    _, state = run(cap())
    intruder = cap("EVIL-1", sender="someone@example.invalid", msg_type=msg_type,
                   refs=[("authority@example.invalid", "A-1")])
    with pytest.raises(ContractError) as err:
        run(intruder, state)
    assert err.value.errors[0].field == "data.references" and "authority@example.invalid" in str(err.value)
    delegated = AlertingConfig(cap_delegates={"authority@example.invalid": ("relay@example.invalid",)})
    relay = cap("R-1", sender="relay@example.invalid", msg_type="Cancel", refs=[("authority@example.invalid", "A-1")])
    out, state = run(relay, state, conf=delegated)
    assert cancelled(out) and state["cancelled"]


def test_a_found_update_from_another_sender_does_not_stop_a_missing_child_search():
    child = {"last_seen_at": START, "last_seen": {"lat": 31.22, "lon": 121.54}, "age": 8, "description": "红色外套"}
    _, state = run(cap("MC-1", missing_child=child, areas=[]))
    found = cap("MC-F", sender="prankster@example.invalid", msg_type="Update", areas=[],
                refs=[("authority@example.invalid", "MC-1")], missing_child={**child, "found": True})
    with pytest.raises(ContractError):
        run(found, state)
    assert state["missing"] is not None and not state["cancelled"]
