"""Access over real HTTP: every endpoint refuses a missing token, a wrong role and another unit's case."""

from __future__ import annotations

import json
import logging

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from consumers.cases.api import build_app
from consumers.cases.audit import AuditRecord
from consumers.cases.tokens import AccessToken
from tests.cases_fixtures import (
    OTHER_DISTRICT,
    OTHER_SCHOOL,
    REPORTER_NAME,
    REPORTER_PHONE,
    SCHOOL,
    CaseWorld,
    open_case,
)

CASE = "case-000001"
ENDPOINTS = [  # (method, path, body, roles that may)
    ("GET", "/cases/{c}", None, "any"),
    ("GET", "/cases/{c}/reporter", None, "police"),
    ("POST", "/cases/{c}/acknowledge", {}, "agency"),
    ("POST", "/cases/{c}/assign", {"assignee": "Test Investigator 01"}, "agency"),
    ("POST", "/cases/{c}/notes", {"text": "TEST note"}, "any"),
    ("POST", "/cases/{c}/services", {"service": "rescue"}, "agency"),
    ("POST", "/cases/{c}/referrals", {"to_agency_id": "health-310115", "reason": "exam"}, "agency"),
    ("POST", "/cases/{c}/referrals/1/answer", {"decision": "accept"}, "agency"),
    ("POST", "/cases/{c}/close", {"outcome": "done"}, "agency"),
    ("POST", "/cases/{c}/reopen", {"reason": "new evidence"}, "agency"),
]


@pytest.fixture()
def world(sqlite_url):
    url = sqlite_url
    w = CaseWorld(url)
    w.open(open_case(1))
    yield w
    w.close()


@pytest.fixture()
async def client(world):
    async with TestClient(TestServer(build_app(world.desk))) as c:
        yield c


async def _call(client, method, path, body, token):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    resp = await client.request(method, path.format(c=CASE), json=body, headers=headers)
    return resp.status, await resp.json()


@pytest.mark.parametrize("method,path,body,who", ENDPOINTS + [("GET", "/cases", None, "any")])
async def test_every_endpoint_refuses_missing_and_unknown_tokens(client, method, path, body, who):
    assert (await _call(client, method, path, body, None))[0] == 401
    assert (await _call(client, method, path, body, "cst_nope_nope"))[0] == 401


@pytest.mark.parametrize("method,path,body,who", ENDPOINTS + [("GET", "/cases", None, "any")])
async def test_every_endpoint_refuses_a_wrong_role(world, client, method, path, body, who):
    status, payload = await _call(client, method, path, body, world.token("operator", "ops-desk"))
    assert status == 403 and "operator" in payload["message"]
    if who != "any":
        status, _ = await _call(client, method, path, body, world.token("school_officer", SCHOOL))
        assert status == 403
    if who == "police":
        status, _ = await _call(client, method, path, body, world.token("agency_duty_officer", "ca-310115"))
        assert status == 403


@pytest.mark.parametrize("method,path,body,who", ENDPOINTS)
async def test_every_endpoint_refuses_another_units_case(world, client, method, path, body, who):
    other_police = world.token("police_duty_officer", f"ps-{OTHER_DISTRICT}")
    other_school = world.token("school_officer", OTHER_SCHOOL)
    for token in (other_police, other_school) if who == "any" else (other_police,):
        status, payload = await _call(client, method, path, body, token)
        assert status == 404 and "not in the scope" in payload["message"]
    with world.transaction() as s:
        denied = s.execute(select(AuditRecord.action).where(AuditRecord.action.like("denied.%"))).scalars().all()
    assert denied


async def test_listing_shows_only_own_units_cases(world, client):
    world.open(open_case(2, school=OTHER_SCHOOL, district=OTHER_DISTRICT))
    listings = {}
    for name, token in {"police": world.token("police_duty_officer", "ps-310115"),
                        "other_police": world.token("police_duty_officer", f"ps-{OTHER_DISTRICT}"),
                        "school": world.token("school_officer", SCHOOL),
                        "other_school": world.token("school_officer", OTHER_SCHOOL)}.items():
        status, payload = await _call(client, "GET", "/cases", None, token)
        assert status == 200
        listings[name] = [c["case_id"] for c in payload]
    assert listings == {"police": [CASE], "other_police": ["case-000002"], "school": [CASE],
                        "other_school": ["case-000002"]}


async def test_school_officer_may_read_and_note_own_case_only(world, client):
    school = world.token("school_officer", SCHOOL)
    assert (await _call(client, "GET", "/cases/{c}", None, school))[0] == 200
    assert (await _call(client, "POST", "/cases/{c}/notes", {"text": "parents informed"}, school))[0] == 200
    status, payload = await _call(client, "POST", "/cases/{c}/notes", {"text": ""}, school)
    assert status == 422 and payload["fields"][0]["field"] == "text"


async def test_illegal_step_over_http_is_409_with_the_states(world, client):
    police = world.token("police_duty_officer", "ps-310115")
    status, payload = await _call(client, "POST", "/cases/{c}/close", {"outcome": "x"}, police)
    assert status == 409 and "from 'forwarded' to 'closed'" in payload["message"]


async def test_reporter_identity_only_for_police_and_never_in_views_audit_alerts_or_logs(world, client, caplog):
    caplog.set_level(logging.DEBUG)
    police = world.token("police_duty_officer", "ps-310115")
    civil = world.token("agency_duty_officer", "ca-310115")
    status, reporter = await _call(client, "GET", "/cases/{c}/reporter", None, police)
    assert status == 200 and reporter["name"] == REPORTER_NAME and reporter["phone"] == REPORTER_PHONE
    texts = []
    for token in (police, civil, world.token("school_officer", SCHOOL)):
        texts.append(json.dumps((await _call(client, "GET", "/cases/{c}", None, token))[1], ensure_ascii=False))
        texts.append(json.dumps((await _call(client, "GET", "/cases", None, token))[1], ensure_ascii=False))
    await _call(client, "POST", "/cases/{c}/acknowledge", {}, police)
    with world.transaction() as s:
        texts += [json.dumps([r.actor, r.action, r.subject, r.outcome, r.details], ensure_ascii=False)
                  for r in s.execute(select(AuditRecord)).scalars()]
        assert all(len(h) == 64 for h in s.execute(select(AccessToken.token_hash)).scalars())
    texts += [v.decode() for _, _, v in world.publisher.sent]
    texts.append(caplog.text)
    for text in texts:
        assert REPORTER_NAME not in text and REPORTER_PHONE not in text
