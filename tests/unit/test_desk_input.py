"""The case desk API refuses hostile input with a 4xx naming the field, never a 5xx (authorisation is
tests/unit/test_cases_access.py)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from consumers.cases.api import build_app
from tests.cases_fixtures import CaseWorld, open_case

POLICE = "ps-310115"
BAD = [
    (b"[" * 5000 + b"]" * 5000, "application/json", 422, "(body)"),
    (b'{"text": ' + b"9" * 5000 + b"}", "application/json", 422, "(body)"),
    (b'{"text": "\xff\xfe"}', "application/json", 422, "(body)"),
    ('{"text": "备注"}'.encode("utf-16"), "application/json", 422, "(body)"),
    ('{"text": "备注"}'.encode("gbk"), "application/json; charset=gbk", 422, "Content-Type"),
    (b'{"text": "x"}', "text/plain", 422, "Content-Type"),
    (b'{"text": 5}', "application/json", 422, "text"),
    (b"{}", "application/json", 422, "text"),
]


@pytest.fixture()
async def desk(sqlite_url):
    url = sqlite_url
    world = CaseWorld(url)
    world.open(open_case(1))
    async with TestClient(TestServer(build_app(world.desk))) as client:
        yield client, world.token("police_duty_officer", POLICE)
    world.close()


@pytest.mark.parametrize("body,content_type,status,field", BAD)
async def test_hostile_bodies_are_a_4xx_naming_the_field(desk, body, content_type, status, field):
    client, token = desk
    resp = await client.post("/cases/case-000001/notes", data=body,
                             headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    assert resp.status == status, await resp.text()
    assert field in [f["field"] for f in (await resp.json())["fields"]]


@pytest.mark.parametrize("path,field", [("/cases/no-such-case", "case_id"), ("/cases", "Authorization")])
async def test_every_refusal_names_a_field(desk, path, field):
    client, token = desk
    headers = {"Authorization": f"Bearer {token}"} if path != "/cases" else {"Authorization": "Bearer ＳＴＯＰ\u200b"}
    resp = await client.get(path, headers=headers)
    assert 400 <= resp.status < 500
    assert [f["field"] for f in (await resp.json())["fields"]] == [field]
