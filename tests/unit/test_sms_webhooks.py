"""Webhooks: forged and unsigned callbacks refused, statuses deduplicated, fallbacks, replies, reminders."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from alerts.webhook_auth import WebhookVerifier
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
from consumers.sms.errors import ResendRefused
from consumers.sms.jobs import job_marker
from consumers.sms.ledger import SmsLedger
from consumers.sms.reminders import ReminderPolicy, resend_unacknowledged
from consumers.sms.webhooks import SmsWebhooks
from consumers.store.db import make_engine
from consumers.store.directory import OptOut
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert, SmsLedgerEntry
from contracts.alert_request import AlertRequested
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.common import Priority
from contracts.events import SmsJobEvent
from tests import sms_directory
from tests.fakes import FakeSink, FakeSmsGateway, guard
from tests.sms_world import job

TOKEN = "test-auth-token"
PUBLIC = "https://childsafe.example.test"


@pytest.fixture()
async def hooks(db_url, tmp_path):
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "dir")
    clock = FakeClock(datetime(2026, 11, 29, 2, 0, tzinfo=UTC))
    gateway = FakeSmsGateway()
    dispatcher = SmsDispatcher(SmsLedger(engine, clock), gateway, clock,
                               DispatchSettings(callback_base_url=PUBLIC, concurrency=1),
                               cancellations=CancellationBook(engine, clock), rng=random.Random(1), owner="dispatcher-test",
                               guard=guard("sms-dispatch"))
    client = TestClient(TestServer(SmsWebhooks(engine, WebhookVerifier(TOKEN), PUBLIC, clock).app()))
    await client.start_server()
    yield engine, clock, gateway, dispatcher, client
    await client.close()
    dispatcher.close()
    engine.dispose()


async def post(client, path_qs, params, *, sign=True, token=TOKEN, headers=None):
    if path_qs.startswith("/sms/inbound") and "MessageSid" not in params:  # the provider names every message
        params = {**params, "MessageSid": f"SM{uuid.uuid4().hex}"}
    hdrs = dict(headers or {})
    if sign:
        hdrs["X-Twilio-Signature"] = RequestValidator(token).compute_signature(PUBLIC + path_qs, params)
    return await client.post(path_qs, data=params, headers=hdrs)


def ledger_row(engine):
    with engine.connect() as conn:
        return conn.execute(select(SmsLedgerEntry)).one()


async def test_unsigned_and_forged_callbacks_are_rejected_and_change_nothing(hooks):
    engine, clock, gateway, dispatcher, client = hooks
    j = job("g:G1", sms_directory.G[1])
    dispatcher.dispatch([j])
    sid = next(iter(gateway.sent))
    path = f"/sms/status?job={job_marker(j.dedup_key)}"
    params = {"MessageSid": sid, "MessageStatus": "delivered"}
    assert (await post(client, path, params, sign=False)).status == 403
    assert (await post(client, path, params, token="someone-elses-token")).status == 403
    tampered = await client.post(path, data={**params, "MessageStatus": "failed"}, headers={
        "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)})
    assert tampered.status == 403
    assert (await post(client, "/sms/inbound", {"From": sms_directory.G[1], "Body": "STOP"}, sign=False)).status == 403
    assert ledger_row(engine).provider_status == "queued"
    with engine.connect() as conn:
        assert conn.execute(select(OptOut)).all() == []


async def test_signed_callbacks_update_the_ledger_once_and_never_backwards(hooks):
    engine, clock, gateway, dispatcher, client = hooks
    j = job("g:G1", sms_directory.G[1])
    dispatcher.dispatch([j])
    sid = next(iter(gateway.sent))
    path = f"/sms/status?job={job_marker(j.dedup_key)}"
    first = await post(client, path, {"MessageSid": sid, "MessageStatus": "delivered"},
                       headers={"I-Twilio-Idempotency-Token": "tok-1"})
    assert (await first.json())["outcome"] == "applied"
    again = await post(client, path, {"MessageSid": sid, "MessageStatus": "delivered"},
                       headers={"I-Twilio-Idempotency-Token": "tok-1"})
    assert (await again.json())["outcome"] == "duplicate"
    late = await post(client, path, {"MessageSid": sid, "MessageStatus": "sent"},
                      headers={"I-Twilio-Idempotency-Token": "tok-2"})
    assert (await late.json())["outcome"] == "stale"
    assert (ledger_row(engine).state, ledger_row(engine).provider_status) == ("accepted", "delivered")


async def test_undelivered_to_a_guardian_falls_back_to_the_next_guardian(hooks):
    from consumers.sms.fallback import GuardianFallback

    engine, clock, gateway, dispatcher, client = hooks
    j = job("g:G4", sms_directory.G[4], guaranteed_reach=True)
    dispatcher.dispatch([j])
    sid = next(iter(gateway.sent))
    response = await post(client, f"/sms/status?job={job_marker(j.dedup_key)}",
                          {"MessageSid": sid, "MessageStatus": "undelivered", "ErrorCode": "30003"})
    assert (await response.json()) == {"outcome": "applied", "fallback": True}
    sink = FakeSink()
    GuardianFallback(engine, dispatcher.ledger, sink, clock).emit()
    assert [decode(v, SmsJobEvent).data.recipient_id for _, v in sink.sent] == ["g:G5"]


async def test_inbound_stop_start_and_acknowledgements(hooks):
    engine, clock, gateway, dispatcher, client = hooks
    for word in ("STOP", "退订", "TD", "unsubscribe"):
        await post(client, "/sms/inbound", {"From": sms_directory.G[2], "Body": word})
        assert dispatcher.ledger.opted_out({sms_directory.G[2]}) == {sms_directory.G[2]}
        await post(client, "/sms/inbound", {"From": sms_directory.G[2], "Body": "START"})
        assert dispatcher.ledger.opted_out({sms_directory.G[2]}) == set()

    alert = AlertRequested(alert_id="ACK1", kind="incident_emergency", priority=Priority.URGENT,
                           audience={"kind": "school_guardians", "school_id": "S1"}, requires_ack=True,
                           params={"school": "测试学校甲", "category": "fire"}, source_event_id="e1", reason="test")
    with engine.begin() as conn:
        conn.execute(SmsAlert.__table__.insert().values(alert_id="ACK1", request_json=alert.model_dump_json(),
                                                        requires_ack=True, fanout_done=True, jobs_emitted=3,
                                                        created_at=clock.now()))
    dispatcher.dispatch([job(f"g:G{i}", sms_directory.G[i], alert="ACK1") for i in (1, 2, 3)])
    response = await post(client, "/sms/inbound", {"From": sms_directory.G[2], "Body": "收到"})
    assert response.status == 200 and "<Response>" in await response.text()
    await post(client, "/sms/inbound", {"From": sms_directory.G[3], "Body": "1"})
    with engine.connect() as conn:
        assert sorted(conn.execute(select(SmsAcknowledgement.recipient_id)).scalars()) == ["g:G2", "g:G3"]

    sink = FakeSink()
    with pytest.raises(ResendRefused, match="too early") as early:  # people get time to answer
        resend_unacknowledged(engine, sink, clock, "ACK1")
    assert early.value.rule == "too_early" and sink.sent == []
    clock.advance(ReminderPolicy().min_wait.total_seconds())
    reminder = resend_unacknowledged(engine, sink, clock, "ACK1")
    assert (reminder.round_alert_id, reminder.reminded) == ("ACK1#r1", 1)
    reminded = decode(sink.sent[0][1], SmsJobEvent).data
    assert (reminded.recipient_id, reminded.alert_id) == ("g:G1", "ACK1#r1")
    assert "收到请回复1" in reminded.body
    dispatcher.dispatch([reminded, reminded])
    assert len(gateway.to_number(sms_directory.G[1])) == 2  # the alert, then one reminder
    await post(client, "/sms/inbound", {"From": sms_directory.G[1], "Body": "收到"})  # answers the reminder
    clock.advance(ReminderPolicy().min_wait.total_seconds())
    with pytest.raises(ResendRefused, match="everyone") as nobody:
        resend_unacknowledged(engine, FakeSink(), clock, "ACK1")
    assert nobody.value.rule == "nobody_left"


async def test_latency_from_alert_request_to_acceptance_and_delivery_is_measured(hooks):
    """The job carries when its alert was requested; the dispatcher and the callbacks observe the latency."""
    from datetime import timedelta

    from prometheus_client import REGISTRY

    def count(name):
        return REGISTRY.get_sample_value(f"{name}_count") or 0.0

    def seconds(name):
        return REGISTRY.get_sample_value(f"{name}_sum") or 0.0

    engine, clock, gateway, dispatcher, client = hooks
    before = {n: (count(n), seconds(n)) for n in ("childsafe_alert_to_provider_seconds",
                                                  "childsafe_alert_to_delivered_seconds")}
    j = job("g:G1", sms_directory.G[1], requested_at=clock.now() - timedelta(seconds=3))
    dispatcher.dispatch([j])
    clock.advance(7)
    sid = next(iter(gateway.sent))
    await post(client, f"/sms/status?job={job_marker(j.dedup_key)}", {"MessageSid": sid, "MessageStatus": "delivered"})
    accepted = (count("childsafe_alert_to_provider_seconds"), seconds("childsafe_alert_to_provider_seconds"))
    delivered = (count("childsafe_alert_to_delivered_seconds"), seconds("childsafe_alert_to_delivered_seconds"))
    assert accepted[0] == before["childsafe_alert_to_provider_seconds"][0] + 1
    assert accepted[1] - before["childsafe_alert_to_provider_seconds"][1] == pytest.approx(3.0)
    assert delivered[0] == before["childsafe_alert_to_delivered_seconds"][0] + 1
    assert delivered[1] - before["childsafe_alert_to_delivered_seconds"][1] == pytest.approx(10.0)
    metrics = await (await client.get("/metrics")).text()
    assert "childsafe_alert_to_delivered_seconds_count" in metrics
