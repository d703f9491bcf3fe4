"""Missing child from a case (issue 9 item 7): police publish the widening alert from a case over HTTP, the
CAP Alert leaves through the case outbox, the streams thread widens it ring by ring to new schools only, and
`found` stops every further SMS; other roles 403, other units' cases 404; the timeline records each step."""

from __future__ import annotations

from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from consumers.cases.api import build_app
from consumers.cases.errors import InvalidCaseInput
from consumers.cases.missing_child import MissingChildDesk, add_routes
from consumers.cases.models import CaseEvent
from consumers.store.core import School
from contracts.codec import decode
from contracts.events import AlertCancelledEvent, AlertRequestedEvent, EmergencyAlertIssuedEvent
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas, SchoolPlace
from streams.emergency.threads import handle, widen
from tests.cases_fixtures import DISTRICT, OTHER_DISTRICT, SCHOOL, CaseWorld, open_case

CASE, OTHER_CASE, ABUSE_CASE = "case-000001", "case-000002", "case-000003"
TOPIC = "t.emergency.alerts.v1"
BODY = {"last_seen_at": "2026-11-29T08:30:00+08:00", "age": 8, "description": "红色外套，蓝色书包"}
# the case's school at (40.0, 100.0) and others due north at 50-600 km (fictional)
RING_SCHOOLS = [SchoolPlace(f"S-{km:03d}KM", "620100", 40.0 + km / 111.2, 100.0) for km in (50, 150, 250, 400, 600)]


@pytest.fixture()
def world(sqlite_url):
    url = sqlite_url
    w = CaseWorld(url)
    w.open(open_case(1, category="missing_child"))
    w.open(open_case(2, category="missing_child", school="sch-test-002", district=OTHER_DISTRICT))
    w.open(open_case(3))
    with w.transaction() as s:
        s.get(School, SCHOOL).lat, s.get(School, SCHOOL).lon = 40.0, 100.0
    w.mc_desk = MissingChildDesk(w.factory, w.clock, TOPIC, sender="cases.test.childsafe")
    yield w
    w.close()


@pytest.fixture()
async def client(world):
    async with TestClient(TestServer(add_routes(build_app(world.desk), world.mc_desk))) as c:
        yield c


async def post(client, path, body, token):
    resp = await client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    return resp.status, await resp.json()


def published(world) -> list:
    world.relay.publish_pending()
    return [decode(v, EmergencyAlertIssuedEvent) for t, _, v in world.publisher.sent if t == TOPIC]


async def test_police_publish_rings_widen_and_found_stops_everything(world, client):
    police = world.token("police_duty_officer", f"ps-{DISTRICT}")
    status, out = await post(client, f"/cases/{CASE}/missing-child", BODY, police)
    assert status == 200 and out["state"] == "published", out
    [alert] = published(world)
    assert alert.data.missing_child.last_seen.lat == 40.0 and alert.data.msg_type.value == "Alert"
    atlas, conf, now = SchoolAtlas(RING_SCHOOLS), AlertingConfig(), world.clock.now()
    outputs, state = handle(alert, 0, None, atlas, conf, now)
    told = [decode(o.value, AlertRequestedEvent).data for o in outputs if o.topic.suffix == "alerts.requested.v1"]
    assert [a.audience.school_ids for a in told] == [["S-050KM"]] and told[0].kind.value == "missing_child"
    outputs, state = widen(state, atlas, conf, now + timedelta(hours=1))
    ring1 = [decode(o.value, AlertRequestedEvent).data.audience.school_ids for o in outputs]
    assert ring1 == [["S-150KM"]], "the second ring reaches only the new school"
    assert (await post(client, f"/cases/{CASE}/missing-child", BODY, police))[0] == 409, "already out"
    status, out = await post(client, f"/cases/{CASE}/missing-child/found", {"reason": "found at a relative's"}, police)
    assert status == 200 and out["state"] == "found"
    found = published(world)[-1]
    assert found.data.missing_child.found and found.data.references[0].identifier == alert.data.identifier
    outputs, state = handle(found, 0, state, atlas, conf, now + timedelta(hours=1, minutes=5))
    stopped = {decode(o.value, AlertCancelledEvent).data.alert_id for o in outputs
               if o.topic.suffix == "alerts.cancelled.v1"}
    assert stopped == set(state["alerts"]) and len(stopped) == 2
    assert widen(state, atlas, conf, now + timedelta(hours=5))[0] == [], "no ring after found"
    with world.transaction() as s:
        steps = s.execute(select(CaseEvent.details).where(CaseEvent.case_id == CASE, CaseEvent.kind == "missing_child")
                          .order_by(CaseEvent.id)).scalars().all()
    assert [d["state"] for d in steps] == ["published", "found"]


async def test_last_seen_by_coordinates(world, client):
    police = world.token("police_duty_officer", f"ps-{DISTRICT}")
    status, _ = await post(client, f"/cases/{CASE}/missing-child", {**BODY, "lat": 31.2, "lon": 121.5}, police)
    assert status == 200 and published(world)[0].data.missing_child.last_seen.lon == 121.5


@pytest.mark.parametrize("role,unit", [("agency_duty_officer", f"ca-{DISTRICT}"), ("school_officer", SCHOOL),
                                       ("operator", "ops-desk")])
async def test_non_police_roles_are_refused(world, client, role, unit):
    for path in (f"/cases/{CASE}/missing-child", f"/cases/{CASE}/missing-child/found"):
        status, payload = await post(client, path, BODY, world.token(role, unit))
        assert status == 403 and role in payload["message"]
    assert published(world) == []


async def test_another_units_case_is_not_found_and_a_non_missing_case_is_refused(world, client):
    police = world.token("police_duty_officer", f"ps-{DISTRICT}")
    assert (await post(client, f"/cases/{OTHER_CASE}/missing-child", BODY, police))[0] == 404
    assert (await post(client, f"/cases/{ABUSE_CASE}/missing-child", BODY, police))[0] == 409
    assert (await post(client, f"/cases/{CASE}/missing-child/found", {}, police))[0] == 409, "nothing out yet"


@pytest.mark.parametrize("change,field", [
    ({"age": 18}, "age"), ({"age": "eight"}, "age"), ({"lat": 91, "lon": 0}, "lat"), ({"lat": "NaN", "lon": 1}, "lat"),
    ({"last_seen_at": "2026-11-29 08:30"}, "last_seen_at"), ({"last_seen_at": "2030-01-01T00:00:00+08:00"}, "last_seen_at"),
    ({"description": ""}, "description"), ({"description": "x" * 201}, "description"), ({"school_id": 5}, "school_id"),
    ({"school_id": "sch-test-002"}, "school_id")])
async def test_bad_fields_are_422_naming_the_field(world, client, change, field):
    police = world.token("police_duty_officer", f"ps-{DISTRICT}")
    status, payload = await post(client, f"/cases/{CASE}/missing-child", {**BODY, **change}, police)
    assert status == 422 and field in {f["field"] for f in payload["fields"]}, payload


@pytest.mark.parametrize("description", ["红色外套\n蓝色书包", "ＲＥＤ　ＣＯＡＴ", "🧒红衣服🎒", "红\u200b色\u200d外套",
                                         "\u202e外套红\u202c", "穿" * 200, "   ", "\n\t"])
def test_nasty_descriptions_are_published_or_refused_by_name(world, description):
    token = world.token("police_duty_officer", f"ps-{DISTRICT}")
    try:
        world.mc_desk.publish(token, CASE, BODY["last_seen_at"], 8, description, lat=31.0, lon=121.0)
    except InvalidCaseInput as exc:
        assert exc.errors[0].field == "description" and not description.strip()
        return
    [alert] = published(world)
    assert alert.data.missing_child.description == description.strip()
