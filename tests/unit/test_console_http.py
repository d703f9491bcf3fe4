"""The console over plain HTTP: sign-in, sessions, CSRF, and the desk's scoping on every page and action."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from console.sessions import SessionPolicy
from console.web import CONSOLE, READ_ATTEMPTS
from consumers.cases.audit import AuditRecord, verify
from consumers.cases.models import MandatoryReportCase
from tests.cases_fixtures import OTHER_DISTRICT, OTHER_SCHOOL, REPORTER_NAME, SUMMARY, CaseWorld, open_case
from tests.console_fixtures import Browserless, add_people, build_app, make_console, start_client


@pytest.fixture()
async def world(db_url):
    w = CaseWorld(db_url)
    add_people(w.transaction, w.clock.now())
    w.open(open_case(1))  # district 310115, school sch-test-001
    w.open(open_case(2, school=OTHER_SCHOOL, district=OTHER_DISTRICT))
    yield w
    w.close()


@pytest.fixture()
async def client(world):
    c = await start_client(build_app(make_console(world, policy=SessionPolicy(idle=timedelta(minutes=30),
                                                                              max_failures=3))))
    yield c
    await c.close()


async def as_(client, username) -> Browserless:
    person = Browserless(client)
    resp = await person.sign_in(username)
    assert resp.status == 303, await resp.text()
    cookie = resp.cookies["cs_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Strict"
    return person


def audit_actions(world) -> list[tuple[str, str]]:
    with world.factory() as s:
        return [(r.action, r.outcome) for r in s.scalars(select(AuditRecord).order_by(AuditRecord.seq))]


async def test_signin_is_audited_and_failures_are_throttled(world, client):
    person = Browserless(client)
    assert (await person.sign_in("police1", "wrong-password-1")).status == 401
    assert (await person.sign_in("nobody-here", "whatever-123")).status == 401
    assert (await person.sign_in("police1")).status == 303
    actions = audit_actions(world)
    assert ("console.signin", "wrong_password") in actions and ("console.signin", "unknown_user") in actions
    assert ("console.signin", "ok") in actions
    for _ in range(3):
        await Browserless(client).sign_in("civil1", "not-the-password")
    refused = await Browserless(client).sign_in("civil1")  # right password, but throttled
    assert refused.status == 429 and "分钟后再试" in await refused.text()
    assert ("console.signin", "throttled") in audit_actions(world)
    with world.factory() as s:
        assert verify(s).ok


async def test_another_units_case_is_not_found_and_a_wrong_role_is_refused(world, client):
    police = await as_(client, "police1")
    assert (await client.get("/cases/case-000001")).status == 200
    other = await client.get("/cases/case-000002")
    assert other.status == 404 and "不在您单位的范围内" in await other.text()
    assert (await police.post("/cases/case-000002/act/acknowledge")).status == 404
    officer = await as_(client, "officer1")  # the same client now carries the officer's cookie
    refused = await officer.post("/cases/case-000001/act/acknowledge")
    assert refused.status == 403
    assert (await officer.post("/cases/case-000001/reporter")).status == 403
    assert (await client.get("/queue")).status == 200  # lists only its school's cases, through the desk
    assert ("denied.acknowledge", "Forbidden") in audit_actions(world)


async def test_missing_or_wrong_csrf_is_refused(world, client):
    police = await as_(client, "police1")
    assert (await police.post("/cases/case-000001/act/acknowledge", csrf=None)).status == 403
    assert (await police.post("/cases/case-000001/act/acknowledge", csrf="forged-token")).status == 403
    with world.factory() as s:
        assert s.get(MandatoryReportCase, "case-000001").state == "forwarded"
    done = await police.post("/cases/case-000001/act/acknowledge")
    assert done.status == 303
    page = await client.get("/cases/case-000001")
    assert "已确认接报" in await page.text()


async def test_a_stale_session_is_signed_out(world, client):
    await as_(client, "police1")
    assert (await client.get("/queue", allow_redirects=False)).status == 200
    world.clock.advance(timedelta(minutes=31))
    stale = await client.get("/queue", allow_redirects=False)
    assert stale.status == 303 and stale.headers["Location"] == "/signin?expired=1"
    assert ("console.session.idle", "ok") in audit_actions(world)
    again = await client.get("/queue", allow_redirects=False)  # the token was revoked with the session
    assert again.status == 303


async def test_a_disabled_user_is_signed_out_at_once(world, client):
    from console.sessions import disable_user

    await as_(client, "civil1")
    with world.transaction() as s:
        assert disable_user(s, "civil1", world.clock.now()) == 1
    assert (await client.get("/queue", allow_redirects=False)).status == 303
    assert (await Browserless(client).sign_in("civil1")).status == 401


async def test_illegal_step_is_shown_on_the_case_page_not_a_500(world, client):
    police = await as_(client, "police1")
    resp = await police.post("/cases/case-000001/act/close", {"outcome": "测试结案"})
    assert resp.status == 409 and "当前状态不允许" in await resp.text()
    blank = await police.post("/cases/case-000001/act/assign", {"assignee": "   "})
    assert blank.status == 422 and "assignee" in await blank.text()
    for referral in ("¹", "١", "", "-1", "1e3"):  # superscripts and other digits are not a referral number
        odd = await police.post("/cases/case-000001/act/answer", {"referral_id": referral, "decision": "accept"})
        assert odd.status == 422 and "referral_id" in await odd.text(), referral


async def test_supervisor_sees_the_cases_of_the_units_under_it_only(world, client):
    await as_(client, "super1")
    page = await (await client.get("/queue")).text()
    assert "case-000001" in page and "case-000002" in page  # both districts' police are under the city HQ
    assert (await client.get("/cases/case-000001")).status == 200
    sup = Browserless(client)
    sup.csrf = (await (await client.get("/queue")).text()).split('name="csrf" value="')[1].split('"')[0]
    assert (await sup.post("/cases/case-000001/act/acknowledge")).status == 403


async def test_buttons_come_from_the_desks_standing_and_a_referral_ends_at_completion(world, client):
    police = await as_(client, "police1")
    page = await (await client.get("/cases/case-000001")).text()
    assert 'id="do-acknowledge"' in page and 'id="show-reporter"' in page and 'id="do-close"' not in page
    for action, form in (("acknowledge", {}), ("assign", {"assignee": "测试侦查员"}), ("note", {"text": "测试：警方内部记录"}),
                         ("refer", {"to_agency_id": "health-310115", "reason": "测试：需要医疗救治"})):
        assert (await police.post(f"/cases/case-000001/act/{action}", form)).status == 303, action
    page = await (await client.get("/cases/case-000001")).text()
    assert 'id="do-close"' in page and 'id="do-assign"' in page  # the lead agency, investigating

    health = await as_(client, "health1")  # asked to take the referral: sees the request only
    page = await (await client.get("/cases/case-000001")).text()
    assert 'id="answer-1-accept"' in page and 'id="answer-1-reject"' in page
    assert SUMMARY not in page and "测试侦查员" not in page and 'id="do-note"' not in page
    assert (await health.post("/cases/case-000001/act/answer", {"referral_id": "1", "decision": "accept"})).status == 303
    page = await (await client.get("/cases/case-000001")).text()  # accepted: the case, but not the lead's duties
    assert SUMMARY in page and 'id="answer-1-complete"' in page and 'id="do-services"' in page
    assert not any(f'id="{b}"' in page for b in ("do-close", "do-assign", "do-reopen", "show-reporter"))
    done = await health.post("/cases/case-000001/act/answer", {"referral_id": "1", "decision": "complete"})
    assert done.status == 303 and done.headers["Location"] == "/queue?done=answer"
    assert "case-000001" not in await (await client.get("/queue?done=answer")).text()
    assert (await client.get("/cases/case-000001")).status == 404  # completing the referral ended its access

    officer = await as_(client, "officer1")
    assert (await officer.post("/cases/case-000001/act/note", {"text": "测试：已通知家长"})).status == 303
    page = await (await client.get("/cases/case-000001")).text()
    assert "测试：已通知家长" in page and "调查中" in page and "公安机关" in page
    for secret in ("警方内部记录", "测试侦查员", "需要医疗救治", "ps-310115", "health-310115", REPORTER_NAME):
        assert secret not in page, secret
    reports = await (await client.get("/reports")).text()
    assert "ps-310115" not in reports and "警方内部记录" not in reports


async def test_police_publish_a_missing_child_alert_from_the_case_page_and_mark_the_child_found(world, client):
    from consumers.store.core import School
    from contracts.codec import decode
    from contracts.events import EmergencyAlertIssuedEvent

    world.open(open_case(3, category="missing_child"))
    with world.transaction() as s:
        s.get(School, "sch-test-001").lat, s.get(School, "sch-test-001").lon = 31.2, 121.5

    def alerts():
        world.relay.publish_pending()
        return [decode(v, EmergencyAlertIssuedEvent).data for t, _, v in world.publisher.sent
                if t == "t.emergency.alerts.v1"]

    form = {"last_seen_at": "2026-11-29T08:30", "age": "8", "description": "红色外套，蓝色书包（测试）"}
    civil = await as_(client, "civil1")  # routed by law, but not the lead police: no button, and refused
    assert 'id="do-missing"' not in await (await client.get("/cases/case-000003")).text()
    assert (await civil.post("/cases/case-000003/act/missing", form)).status == 403
    police = await as_(client, "police1")
    assert 'id="do-missing"' not in await (await client.get("/cases/case-000001")).text(), "not a missing-child case"
    assert 'id="do-missing"' in await (await client.get("/cases/case-000003")).text()
    for bad, field in (({"age": "十八"}, "age"), ({"age": "18"}, "age"), ({"description": "  "}, "description"),
                       ({"last_seen_at": "2099-01-01T08:00"}, "last_seen_at"), ({"lat": "91", "lon": "0"}, "lat"),
                       ({"description": "\u202e😀" * 150}, "description")):
        refused = await police.post("/cases/case-000003/act/missing", {**form, **bad})
        assert refused.status == 422 and field in await refused.text(), (bad, await refused.text())
    assert alerts() == [], "nothing refused reached the outbox"
    assert (await police.post("/cases/case-000003/act/missing", form)).status == 303
    page = await (await client.get("/cases/case-000003")).text()
    assert 'id="do-found"' in page and 'id="do-missing"' not in page and "missing-child alert published" in page
    [alert] = alerts()
    assert alert.missing_child.age == 8 and alert.missing_child.last_seen.lat == 31.2
    assert alert.missing_child.last_seen_at.isoformat() == "2026-11-29T08:30:00+08:00"
    assert (await police.post("/cases/case-000003/act/found", {"reason": "在亲戚家找到（测试）"})).status == 303
    page = await (await client.get("/cases/case-000003")).text()
    assert 'id="do-found"' not in page and "child found" in page
    assert [a.missing_child.found for a in alerts()] == [False, True]
    assert ("denied.missing_child", "Forbidden") in audit_actions(world)


@pytest.mark.parametrize("location, age", [("", "9"), ("操场\n\r\n", "１２"), ("😀" * 300, "9"), ("a\u200bb\u202e", "-1"),
                                           ("x" * 5000, "abc"), ("<script>alert(1)</script>", "")])
async def test_nasty_report_input_is_refused_beside_the_field_never_a_500(world, client, location, age):
    officer = await as_(client, "officer1")
    form = await (await client.get("/report")).text()
    key = form.split('name="idempotency_key" value="')[1].split('"')[0]
    resp = await officer.post("/report", {"idempotency_key": key, "category": "fall", "severity": "minor",
                                          "occurred_at": "2026-11-29T10:20", "location": location,
                                          "description": "测试", "child-0-age": age})
    page = await resp.text()
    # nothing listens at the test's intake address: a valid report is kept and answered 503, never lost silently
    assert resp.status in (422, 503), page[:300]
    if resp.status == 422:
        assert 'class="field-error"' in page and "aria-invalid" in page
    else:
        assert "您填写的内容已保留" in page and key in page
    assert "<script>alert(1)</script>" not in page


async def test_wrong_role_cannot_use_the_officer_pages(world, client):
    await as_(client, "police1")
    assert (await client.get("/report")).status == 403


def test_users_command_creates_lists_and_disables(tmp_path, monkeypatch, capsys):
    import io
    import json

    from consumers.store.migrate import upgrade
    from ops.cli import main

    url = f"sqlite:///{tmp_path / 'c.db'}"
    upgrade(url)
    monkeypatch.setenv("CHILDSAFE_DATABASE_URL", url)
    w = CaseWorld(url)
    w.close()
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-test-password\n"))
    assert main(["users", "create", "--username", "desk.a", "--role", "police_duty_officer", "--unit", "ps-310115",
                 "--name", "测试值班员", "--password-stdin"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a-long-test-password\n"))
    assert main(["users", "create", "--username", "desk.b", "--role", "police_duty_officer",
                 "--unit", "ca-310115", "--password-stdin"]) == 2  # a civil-affairs unit is not police
    assert "public_security" in capsys.readouterr().err
    assert main(["users", "disable", "--username", "desk.a"]) == 0
    capsys.readouterr()
    assert main(["users", "list"]) == 0
    [user] = json.loads(capsys.readouterr().out)
    assert user["username"] == "desk.a" and user["disabled"] and "password" not in json.dumps(user)


class LostLockRace:
    """Stands in for one desk call: the database aborts it `times` times (as PostgreSQL does to one side of a
    deadlock), then it runs for real."""

    def __init__(self, real, times: int):
        self.real, self.left, self.calls = real, times, 0

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.left > 0:
            self.left -= 1
            raise OperationalError("SELECT ... FOR UPDATE", {}, Exception("deadlock detected"))
        return self.real(*args, **kwargs)


@pytest.mark.parametrize("aborts,status,calls", [(2, 200, 3), (99, 503, READ_ATTEMPTS)])
async def test_a_page_read_the_database_aborted_is_run_again_then_is_a_503_not_a_500(world, client, monkeypatch,
                                                                                     aborts, status, calls):
    police = await as_(client, "police1")
    race = LostLockRace(client.server.app[CONSOLE].desk.list_cases, times=aborts)
    monkeypatch.setattr(client.server.app[CONSOLE].desk, "list_cases", race)
    resp = await police.client.get("/queue")
    assert resp.status == status and race.calls == calls
    assert ("case-000001" if status == 200 else "系统繁忙") in await resp.text()


async def test_a_form_post_is_not_run_again_when_the_database_aborts_it(world, client, monkeypatch):
    police = await as_(client, "police1")
    desk = client.server.app[CONSOLE].desk
    race = LostLockRace(desk.acknowledge, times=1)
    monkeypatch.setattr(desk, "acknowledge", race)
    resp = await police.post("/cases/case-000001/act/acknowledge")
    assert resp.status == 503 and race.calls == 1
    with world.factory() as s:
        assert s.get(MandatoryReportCase, "case-000001").state != "acknowledged"
