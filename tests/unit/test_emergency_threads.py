"""CAP threads: areas mapped to schools, Update/Cancel chains via references, exercises kept apart,
missing-child rings widening over (fake) time to new schools only, and cancelled when the child is found."""

from __future__ import annotations

from datetime import timedelta

import pytest

from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.events import AlertCancelledEvent, AlertRequestedEvent
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas, SchoolPlace
from streams.emergency.threads import ExerciseMismatch, handle, thread_root, widen
from tests.cap_samples import CLOCK_START, cap, missing

# Fictional schools: a few in one city, and a line north of (40.0, 100.0) at 50-600 km for the rings.
ATLAS = SchoolAtlas([SchoolPlace("S-IN-POLY", "310115", 31.20, 121.60), SchoolPlace("S-IN-CIRCLE", "310101", 31.23, 121.47),
                     SchoolPlace("S-GEOCODE", "310115", 30.90, 121.90), SchoolPlace("S-OUT", "320500", 31.30, 120.60)]
                    + [SchoolPlace(f"S-{km:03d}KM", "620100", 40.0 + km / 111.2, 100.0)
                       for km in (50, 150, 250, 400, 600)])
CONF = AlertingConfig()


def _alerts(outputs):
    return [decode(o.value, AlertRequestedEvent).data for o in outputs if o.topic.suffix == "alerts.requested.v1"]


def _cancelled(outputs):
    return [decode(o.value, AlertCancelledEvent).data.alert_id for o in outputs if o.topic.suffix == "alerts.cancelled.v1"]


def test_area_polygon_circle_and_geocode_map_to_the_schools_inside():
    outputs, state = handle(cap(), 0, None, ATLAS, CONF, CLOCK_START)
    [a] = _alerts(outputs)
    assert a.audience.school_ids == ["S-GEOCODE", "S-IN-CIRCLE", "S-IN-POLY"]
    assert a.exercise is False and a.priority.value == "emergency"


def test_update_then_cancel_chain_cancels_pending_sends_and_stops_the_thread():
    first = cap("A-1")
    out1, state = handle(first, 0, None, ATLAS, CONF, CLOCK_START)
    update = cap("A-2", msg_type="Update", refs=["A-1"], event="暴雨（升级）")
    assert thread_root(update.data) == thread_root(first.data)
    out2, state = handle(update, 0, state, ATLAS, CONF, CLOCK_START)
    assert _cancelled(out2) == [a.alert_id for a in _alerts(out1)]
    assert _alerts(out2)[0].params["msg_type"] == "Update"
    cancel = cap("A-3", msg_type="Cancel", refs=["A-1", "A-2"])
    out3, state = handle(cancel, 0, state, ATLAS, CONF, CLOCK_START)
    assert set(_cancelled(out3)) == {a.alert_id for a in _alerts(out1) + _alerts(out2)} and not _alerts(out3)
    late_update, state = handle(cap("A-4", msg_type="Update", refs=["A-1"]), 0, state, ATLAS, CONF, CLOCK_START)
    assert not _alerts(late_update), "nothing is sent for a cancelled thread"


@pytest.mark.parametrize("status", ["Exercise", "Test"])
def test_exercise_is_marked_and_never_cancels_an_actual_alert(status):
    outputs, state = handle(cap(status=status, identifier="X-1"), 0, None, ATLAS, CONF, CLOCK_START)
    assert all(a.exercise for a in _alerts(outputs))
    _, actual = handle(cap("A-1"), 0, None, ATLAS, CONF, CLOCK_START)
    with pytest.raises(ExerciseMismatch):
        handle(cap("X-9", msg_type="Cancel", status=status, refs=["A-1"]), 0, actual, ATLAS, CONF, CLOCK_START)
    with pytest.raises(ExerciseMismatch):
        handle(cap("A-9", msg_type="Cancel", refs=["X-1"]), 0, state, ATLAS, CONF, CLOCK_START)


def test_missing_child_widens_to_new_schools_only_then_stops_when_found():
    clock = FakeClock()
    outputs, state = handle(missing(), 0, None, ATLAS, CONF, clock.now())
    rings = [a.audience.school_ids for a in _alerts(outputs)]
    assert rings == [["S-050KM"]] and _alerts(outputs)[0].kind.value == "missing_child"
    clock.advance(timedelta(minutes=59))
    assert widen(state, ATLAS, CONF, clock.now())[0] == []
    seen = set(rings[0])
    for minutes, expected in ((1, ["S-150KM"]), (60, ["S-250KM"]), (60, ["S-400KM"])):
        clock.advance(timedelta(minutes=minutes))
        outputs, state = widen(state, ATLAS, CONF, clock.now())
        [ring] = [a.audience.school_ids for a in _alerts(outputs)]
        assert ring == expected and not seen & set(ring)
        seen |= set(ring)
    clock.advance(timedelta(hours=5))
    assert widen(state, ATLAS, CONF, clock.now())[0] == [], "500 km is the widest ring: S-600KM is never told"
    found = missing("MC-2", msg_type="Update", refs=["MC-1"], child={"found": True})
    outputs, state = handle(found, 0, state, ATLAS, CONF, clock.now())
    assert len(_cancelled(outputs)) == 4 and state["cancelled"] and not _alerts(outputs)
    assert widen(state, ATLAS, CONF, clock.now() + timedelta(hours=9))[0] == []


def test_a_late_missing_child_alert_issues_every_due_ring_at_once_without_repeats():
    outputs, state = handle(missing(), 0, None, ATLAS, CONF, CLOCK_START + timedelta(hours=2, minutes=5))
    rings = [a.audience.school_ids for a in _alerts(outputs)]
    assert rings == [["S-050KM"], ["S-150KM"], ["S-250KM"]] and state["steps"] == 3
