"""A console over the case test world: made-up people of each role, a fake clock, an in-process server.

Every name is fictional; passwords are test-only strings.
"""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient, TestServer
from argon2 import PasswordHasher

from console.accounts import create_user
from console.app import build_app
from console.intake import IntakeClient
from console.sessions import SessionPolicy, SignIn
from console.web import CodePolicy, Console
from consumers.cases.actions import CaseDesk
from consumers.cases.missing_child import MissingChildDesk
from tests.cases_fixtures import DISTRICT, OTHER_DISTRICT, OTHER_SCHOOL, SCHOOL, CaseWorld

PASSWORD = "test-only-passw0rd"
# Real argon2id, at the lowest cost the library accepts: the tests check behaviour, not the work factor.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PEOPLE = {  # username: (role, unit, display name)
    "officer1": ("school_officer", SCHOOL, "测试安全员甲"),
    "officer2": ("school_officer", OTHER_SCHOOL, "测试安全员乙"),
    "police1": ("police_duty_officer", f"ps-{DISTRICT}", "测试民警丙"),
    "police2": ("police_duty_officer", f"ps-{OTHER_DISTRICT}", "测试民警丁"),
    "civil1": ("agency_duty_officer", f"ca-{DISTRICT}", "测试民政戊"),
    "health1": ("agency_duty_officer", f"health-{DISTRICT}", "测试卫健庚"),  # not routed by law: referrals only
    "super1": ("supervisor", "ps-city-3101", "测试督导己"),
}


def add_people(world_transaction, now) -> None:
    with world_transaction() as s:
        for username, (role, unit, name) in PEOPLE.items():
            create_user(s, username, PASSWORD, role, unit, name, now, hasher=FAST_HASHER)


def make_console(world: CaseWorld, intake_url: str = "http://127.0.0.1:9", policy: SessionPolicy | None = None,
                 intake_token: str = "") -> Console:
    desk = CaseDesk(world.factory, world.clock)
    missing = MissingChildDesk(world.factory, world.clock, "t.emergency.alerts.v1", sender="cases.test.childsafe")
    return Console(factory=world.factory, clock=world.clock, desk=desk, missing=missing, guardian_codes=CodePolicy(),
                   signin=SignIn(world.factory, world.clock, policy or SessionPolicy(), hasher=FAST_HASHER),
                   intake=IntakeClient(intake_url, intake_token, attempts=2, backoff_s=0.01, timeout_s=5))


CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "page has no CSRF field"
    return found.group(1)


class Browserless:
    """A plain-HTTP client of the console (aiohttp's test client), signed in as one person."""

    def __init__(self, client: TestClient):
        self.client = client
        self.csrf = ""

    async def sign_in(self, username: str, password: str = PASSWORD):
        page = await self.client.get("/signin")
        pre = csrf_of(await page.text())
        resp = await self.client.post("/signin", data={"csrf": pre, "username": username, "password": password},
                                      allow_redirects=False)
        if resp.status == 303:
            home = await self.client.get("/", allow_redirects=True)
            self.csrf = csrf_of(await home.text())
        return resp

    async def post(self, path: str, data: dict | None = None, csrf: str | None = "mine", **kw):
        body = dict(data or {})
        if csrf is not None:
            body["csrf"] = self.csrf if csrf == "mine" else csrf
        return await self.client.post(path, data=body, allow_redirects=False, **kw)


async def start_client(app) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


__all__ = ["Browserless", "PASSWORD", "PEOPLE", "add_people", "build_app", "make_console", "start_client"]
