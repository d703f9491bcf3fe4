"""The emergency manager's forms and pages over plain HTTP: every refusal named by its field (unknown district,
malformed or expired CAP upload, exercise and actual mixed in one thread, cancel by someone else), the preview
composed by the fan-out's own templates, and any nasty input refused at the form boundary, never a 5xx."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from multidict import MultiDict

from console.accounts import create_user
from console.emergency import EmergencyDesk
from console.emergency_form import EVENTS, compose, read_upload
from console.emergency_threads import ConsoleAlertThread
from contracts.cap import to_cap
from contracts.emergency import EmergencyAlertIssued
from tests.cases_fixtures import DISTRICT, OTHER_DISTRICT, CaseWorld
from tests.console_fixtures import FAST_HASHER, PASSWORD, Browserless, add_people, build_app, make_console, start_client

DISTRICTS = [OTHER_DISTRICT, DISTRICT]
NASTY = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["", " ", "\n\r\n", "３１０１１５", "😀" * 300, "a\u200bb", "\u202eevil", "x" * 5000, "-1", "1e308",
                     "nan", "inf", "<script>", "٣", "310115\n", "310115\u200b", "www.example.com", "null"]),
)


@pytest.fixture()
async def world(db_url):
    w = CaseWorld(db_url)
    add_people(w.transaction, w.clock.now())
    with w.transaction() as s:
        for name, unit in (("em1", "em-3101"), ("em2", "em-3102"), ("em3", "em-3103")):
            create_user(s, name, PASSWORD, "emergency_manager", unit, f"测试应急{name}", w.clock.now(),
                        hasher=FAST_HASHER)
    yield w
    w.close()


class JobsTopic:
    """The SMS jobs topic's port: what was sent, and flushed."""

    def __init__(self):
        self.sent: list[tuple[bytes, bytes]] = []
        self.flushed = 0

    def send(self, key: bytes, value: bytes) -> None:
        self.sent.append((key, value))

    def flush(self) -> None:
        self.flushed = len(self.sent)


@pytest.fixture()
def jobs():
    return JobsTopic()


@pytest.fixture()
async def client(world, jobs):
    console = make_console(world)
    console.emergency = EmergencyDesk(world.engine, {"em-3101": ("em-3103",)},  # em-3103 may act for em-3101
                                      job_sink=lambda: jobs)
    c = await start_client(build_app(console))
    yield c
    await c.close()


async def as_(client, username) -> Browserless:
    person = Browserless(client)
    assert (await person.sign_in(username)).status == 303
    return person


def form(**values) -> dict:
    base = {"mode": "exercise", "event": "rainstorm", "severity": "Severe", "area_kind": "districts",
            "districts": DISTRICT, "expires_hours": "6", "action": "preview"}
    return {**base, **values}


def thread_row(world, *, exercise: bool, sender: str = "em-3101", ident: str = "em-3101_20261129090000_aaaaaa"):
    now = world.clock.now()
    with world.transaction() as s:
        s.add(ConsoleAlertThread(root=f"{sender},{ident}", sender=sender, identifier=ident, sent=now,
                                 exercise=exercise, event="rainstorm",
                                 area_json=json.dumps({"districts": [DISTRICT], "circles": [], "desc": "测试区"}),
                                 created_by=1, state="running", messages=1, last_identifier=ident, last_sent=now,
                                 expires=now + timedelta(hours=6)))
    return ident


def cap_xml(world, **over) -> bytes:
    now = world.clock.now()
    fields = {"identifier": "em-3101_up_1", "sender": "em-3101", "sent": now, "status": "Exercise",
              "msg_type": "Alert", "scope": "Public", "categories": ["Met"], "event": "暴雨",
              "urgency": "Immediate", "severity": "Severe", "certainty": "Likely", "expires": now + timedelta(hours=2),
              "areas": [{"area_desc": "测试区", "geocodes": [{"name": "GB/T2260", "value": DISTRICT}]}], **over}
    return to_cap(EmergencyAlertIssued.model_validate(fields))


async def upload(person, raw: bytes):
    import aiohttp

    data = aiohttp.FormData()
    data.add_field("csrf", person.csrf)
    data.add_field("cap_file", raw, filename="alert.xml", content_type="application/cap+xml")
    return await person.client.post("/emergency/upload", data=data, allow_redirects=False)


async def test_the_preview_shows_the_audience_and_the_exercise_marked_body_the_fan_out_composes(client):
    em = await as_(client, "em1")
    resp = await em.post("/emergency/new", form())
    page = await resp.text()
    assert resp.status == 200, page
    assert 'id="audience"' in page and "1 所学校" in page
    assert "【演练】【儿童安全预警】" in page and "暴雨" in page and "条计费短信" in page
    assert "收到请回复1。</blockquote>" in page and 'id="asks-ack"' in page, "an emergency asks, and the body says how"
    routine = await (await em.post("/emergency/new", form(severity="Moderate"))).text()
    assert "收到请回复1" not in routine and "不要求确认收到" in routine, "an urgent, non-emergency alert does not ask"


async def test_an_unknown_district_is_refused_beside_the_field(client):
    em = await as_(client, "em1")
    resp = await em.post("/emergency/new", form(districts="999999", action="send"))
    page = await resp.text()
    assert resp.status == 422 and 'id="err-districts"' in page and "未知区县" in page


async def test_a_malformed_cap_upload_is_refused_naming_the_file(client):
    em = await as_(client, "em1")
    for raw in (b"<alert>not cap</alert>", b"\x00\xff garbage", b"", b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>'):
        resp = await upload(em, raw)
        assert resp.status == 422 and 'id="err-cap_file"' in await resp.text(), raw


async def test_an_expired_cap_upload_is_refused(world, client):
    em = await as_(client, "em1")
    now = world.clock.now()
    resp = await upload(em, cap_xml(world, sent=now - timedelta(hours=3), expires=now - timedelta(minutes=1)))
    page = await resp.text()
    assert resp.status == 422 and "过期" in page and 'id="err-cap_file"' in page


async def test_exercise_and_actual_are_never_mixed_in_one_thread(world, client):
    ident = thread_row(world, exercise=True)
    em = await as_(client, "em1")
    resp = await em.post(f"/emergency/alerts/{ident}/update", {"mode": "actual", "severity": "Severe"})
    assert resp.status == 422 and 'id="err-mode"' in await resp.text()
    actual_update = cap_xml(world, identifier="em-3101_up_2", status="Actual", msg_type="Update", references=[
        {"sender": "em-3101", "identifier": ident, "sent": world.clock.now()}])
    resp = await upload(em, actual_update)
    assert resp.status == 422 and "不能混在同一预警" in await resp.text()


async def test_only_the_sender_or_its_delegate_may_cancel(world, client):
    ident = thread_row(world, exercise=True)
    other = await as_(client, "em2")
    resp = await other.post(f"/emergency/alerts/{ident}/cancel", {"mode": "exercise"})
    assert resp.status == 403
    page = await (await other.client.get(f"/emergency/alerts/{ident}")).text()
    assert 'id="do-cancel"' not in page
    delegate = await as_(client, "em3")  # allowed: it then reaches the intake, which is down in this test
    resp = await delegate.post(f"/emergency/alerts/{ident}/cancel", {"mode": "exercise"})
    assert resp.status == 503 and "未发送任何内容" in await resp.text()


async def test_other_roles_are_refused_the_emergency_pages(client):
    police = await as_(client, "police1")
    assert (await police.client.get("/emergency")).status == 403
    assert (await police.post("/emergency/new", form())).status == 403


async def test_a_nasty_form_over_http_is_a_named_refusal_never_a_5xx(client):
    em = await as_(client, "em1")
    for value in ("３１０１１５", "\u202e310115", "😀" * 300, "x" * 5000, "310115\u200b"):
        resp = await em.post("/emergency/new", form(districts=value, instruction=value, area_desc=value))
        assert resp.status == 422 and 'id="err-districts"' in await resp.text(), value
    resp = await em.post("/emergency/new", form(districts="310115\n", instruction="😀" * 300, area_desc="\u202e区"))
    assert resp.status == 200, "a trailing line break is trimmed; emoji and bidi marks are normalised in the body"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(event=st.one_of(st.sampled_from(sorted(EVENTS)), NASTY), mode=st.one_of(st.sampled_from(["exercise", "actual"]), NASTY),
       districts=st.lists(st.one_of(st.sampled_from(DISTRICTS), NASTY), max_size=3), kind=NASTY | st.just("circles"),
       lat=NASTY, lon=NASTY, km=NASTY, desc=NASTY, instruction=NASTY, hours=NASTY, severity=NASTY)
def test_any_compose_form_is_a_cap_alert_or_errors_beside_named_fields(event, mode, districts, kind, lat, lon, km,
                                                                        desc, instruction, hours, severity):
    from datetime import datetime

    data = MultiDict({"event": event, "mode": mode, "area_kind": kind, "circle-0-lat": lat, "circle-0-lon": lon,
                      "circle-0-km": km, "area_desc": desc, "instruction": instruction, "expires_hours": hours,
                      "severity": severity})
    for d in districts:
        data.add("districts", d)
    composed = compose(data, sender="em-3101", now=datetime(2026, 11, 29, 1, tzinfo=UTC),
                       districts_known=DISTRICTS, lang="zh-CN")
    assert (composed.alert is None) == bool(composed.errors)
    fields = {"event", "mode", "area_kind", "districts", "area_desc", "instruction", "expires_hours", "severity",
              "(form)", *(f"circle-0-{p}" for p in ("lat", "lon", "km"))}
    for e in composed.errors:
        assert e.field in fields and e.reason, e
    if composed.alert is not None:
        assert set(composed.districts) <= set(DISTRICTS)
        assert composed.alert.is_exercise == (mode == "exercise")
        assert EmergencyAlertIssued.model_validate(composed.alert.model_dump()) == composed.alert


@settings(max_examples=150, deadline=None)
@given(raw=st.one_of(st.binary(max_size=400), NASTY.map(lambda s: s.encode("utf-8", "surrogatepass"))))
def test_any_uploaded_bytes_are_a_cap_alert_or_a_refusal_naming_the_file(raw):
    from datetime import datetime

    alert, errors = read_upload(raw, sender="em-3101", now=datetime(2026, 11, 29, 1, tzinfo=UTC),
                                lang="zh-CN")
    assert alert is None and errors and all(e.field == "cap_file" for e in errors)


def test_delivery_counts_come_from_the_ledger_and_the_csv_masks_numbers(world):
    from console.delivery import csv_rows, delivery, mask
    from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert, SmsLedgerEntry
    from contracts.cap.sms import cap_alert_id

    root = "em-3101,em-3101_x"
    alert_id = cap_alert_id(root, "em-3101_x", 0)
    rows = [("g:1", "+8619900030001", "accepted", "delivered", None), ("g:2", "+8619900030002", "accepted",
            "undelivered", 30003), ("g:3", "+8619900030003", "refused", None, 21211),
            ("g:4", "+8619900030004", "skipped", None, None), ("sc:5", "+8619900030005", "retry", None, None)]
    with world.transaction() as s:
        s.add(SmsAlert(alert_id=alert_id, request_json="{}", requires_ack=False, fanout_done=True, jobs_emitted=5,
                       created_at=world.clock.now()))  # the fan-out records the alert before its jobs
        for n, (rid, phone, state, provider, code) in enumerate(rows):
            s.add(SmsLedgerEntry(dedup_key=f"{alert_id}|{rid}", alert_id=alert_id, recipient_id=rid, marker=f"m{n}",
                                 phone=phone, state=state, provider_status=provider, error_code=code,
                                 sid=f"SM{n}" if state == "accepted" else None, attempts=1, job_json="{}",
                                 created_at=float(n), updated_at=float(n + 10), fallback_pending=False))
        s.add(SmsAcknowledgement(alert_id=alert_id, recipient_id="g:1", phone="+8619900030001", body="1",
                                 received_at=world.clock.now()))
    d = delivery(world.engine, root, "zh-CN")
    assert (d.recipients, d.accepted, d.delivered, d.failed, d.opted_out, d.acknowledged, d.waiting) == (5, 2, 1, 2, 1, 1, 1)
    assert d.failed_by_reason == {"手机不可达 (30003)": 1, "号码无效 (21211)": 1}
    text = csv_rows(world.engine, root, "en")
    assert "+86199****0001" in text and not any(r[1] in text for r in rows)
    assert mask("+8619900030001") == "+86199****0001" and mask("12345") == "*****"


async def test_an_uploaded_cap_is_previewed_then_sent_from_what_was_previewed(world, client):
    import re

    em = await as_(client, "em1")
    resp = await upload(em, cap_xml(world))
    page = await resp.text()
    assert resp.status == 200 and 'id="audience"' in page and "【演练】【儿童安全预警】测试区：暴雨" in page
    kept = re.search(r'name="cap_b64" value="([^"]+)"', page).group(1)
    sent = await em.post("/emergency/upload", {"cap_b64": kept, "action": "send"})
    assert sent.status == 503 and "未发送任何内容" in await sent.text()  # the intake is down in this test
    tampered = await em.post("/emergency/upload", {"cap_b64": kept[:-8] + "!!!!", "action": "send"})
    assert tampered.status == 422 and 'id="err-cap_file"' in await tampered.text()


def ledger_rows(world, alert_id: str, requires_ack: bool, acked: set[str]) -> None:
    from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert, SmsLedgerEntry
    from contracts.alert_request import AlertRequested
    from contracts.sms import SmsJob

    alert = AlertRequested(alert_id=alert_id, kind="cap_emergency", priority="emergency",
                           audience={"kind": "school_list", "school_ids": ["sch-test-001"]},
                           params={"event": "暴雨"}, exercise=True, requires_ack=requires_ack,
                           source_event_id="ev-test", reason="test")
    with world.transaction() as s:
        s.add(SmsAlert(alert_id=alert_id, request_json=alert.model_dump_json(), requires_ack=requires_ack,
                       fanout_done=True, jobs_emitted=2, created_at=world.clock.now()))
        for n in (1, 2):
            rid, phone = f"g:{n}", f"+861990004000{n}"
            job = SmsJob(dedup_key=f"{alert_id}|{rid}", alert_id=alert_id, recipient_id=rid, to=phone,
                         body="【演练】测试", segments=1, priority="emergency")
            s.add(SmsLedgerEntry(dedup_key=f"{alert_id}|{rid}", alert_id=alert_id, recipient_id=rid, marker=f"k{n}",
                                 phone=phone, state="accepted", provider_status="delivered", sid=f"SMK{n}",
                                 attempts=1, job_json=job.model_dump_json(), created_at=1.0,
                                 updated_at=2.0, fallback_pending=False))
            if rid in acked:
                s.add(SmsAcknowledgement(alert_id=alert_id, recipient_id=rid, phone=phone, body="1",
                                         received_at=world.clock.now()))


async def test_resend_to_the_unacknowledged_follows_the_cli_rules(world, client, jobs):
    from consumers.sms.reminders import ReminderPolicy
    from contracts.cap.sms import cap_alert_id

    ident = thread_row(world, exercise=True)
    em = await as_(client, "em1")
    none_yet = await em.post(f"/emergency/alerts/{ident}/resend")
    assert none_yet.status == 409 and "还没有发出短信" in await none_yet.text() and not jobs.sent
    root = f"em-3101,{ident}"
    ledger_rows(world, cap_alert_id(root, ident, 0), requires_ack=True, acked={"g:1"})
    early = await em.post(f"/emergency/alerts/{ident}/resend")
    assert early.status == 409 and "too early" in await early.text() and not jobs.sent
    world.clock.advance(ReminderPolicy().min_wait)
    resp = await em.post(f"/emergency/alerts/{ident}/resend")
    assert resp.status == 303 and "%E5%86%8D%E6%AC%A1%E5%8F%91%E9%80%81" in resp.headers["Location"]  # 再次发送
    assert [k for k, _ in jobs.sent] == [b"g:2"] and jobs.flushed == 1, "only the one who has not acknowledged"
    world.clock.advance(ReminderPolicy().min_wait)
    again = await em.post(f"/emergency/alerts/{ident}/resend")  # a new round: its own alert id, the same one person
    assert again.status == 303 and [k for k, _ in jobs.sent] == [b"g:2", b"g:2"]
    bodies = [json.loads(v)["data"]["body"] for _, v in jobs.sent]
    assert all(b.startswith("【演练】") for b in bodies) and bodies[0] != bodies[1], "each round has its own ref"


async def test_resend_is_refused_when_the_thread_mode_differs_or_it_was_cancelled(world, client, jobs):
    from consumers.sms.reminders import ReminderPolicy
    from contracts.cap.sms import cap_alert_id

    ident = thread_row(world, exercise=False)  # the console's thread says actual; the SMS side's alert is a drill
    ledger_rows(world, cap_alert_id(f"em-3101,{ident}", ident, 0), requires_ack=True, acked=set())
    world.clock.advance(ReminderPolicy().min_wait)
    em = await as_(client, "em1")
    mixed = await em.post(f"/emergency/alerts/{ident}/resend")
    assert mixed.status == 409 and "never mixed" in await mixed.text() and not jobs.sent
    with world.transaction() as s:
        s.get(ConsoleAlertThread, f"em-3101,{ident}").state = "cancelled"
    cancelled = await em.post(f"/emergency/alerts/{ident}/resend")
    assert cancelled.status == 409 and "已取消" in await cancelled.text() and not jobs.sent


async def test_resend_is_refused_for_an_alert_that_did_not_ask_for_acknowledgement(world, client, jobs):
    from contracts.cap.sms import cap_alert_id

    ident = thread_row(world, exercise=True)
    ledger_rows(world, cap_alert_id(f"em-3101,{ident}", ident, 0), requires_ack=False, acked=set())
    em = await as_(client, "em1")
    resp = await em.post(f"/emergency/alerts/{ident}/resend")
    assert resp.status == 409 and "did not ask for acknowledgement" in await resp.text() and not jobs.sent


async def test_the_running_screen_lists_running_threads_and_moves_expired_ones_to_ended(world, client):
    live = thread_row(world, exercise=True)
    em = await as_(client, "em1")
    page = await (await em.client.get("/emergency")).text()
    assert f'data-alert="{live}"' in page and "【演练】" in page
    world.clock.advance(timedelta(hours=7))  # past the thread's expires (and the session's: sign in again)
    em = await as_(client, "em1")
    page = await (await em.client.get("/emergency")).text()
    assert f'data-alert="{live}"' not in page and "已过期" in page
    page = await (await em.client.get(f"/emergency/alerts/{live}")).text()
    assert '<dd id="alert-state">已过期</dd>' in page


async def test_an_upload_whose_identifier_cannot_be_an_address_is_refused(world, client):
    em = await as_(client, "em1")
    resp = await upload(em, cap_xml(world, identifier="em-3101/../x?y"))
    assert resp.status == 422 and "标识符" in await resp.text()
