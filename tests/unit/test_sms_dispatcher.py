"""The dispatcher against a fake gateway and the real ledger (SQLite and PostgreSQL): one message per job."""

from __future__ import annotations

from datetime import timedelta

from consumers.sms.fallback import GuardianFallback
from consumers.sms.jobs import job_marker
from consumers.sms.ledger import set_opt_out
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.codec import decode
from contracts.common import Priority
from contracts.events import SmsJobEvent
from tests import sms_directory
from tests.fakes import LOSE_RESPONSE, FakeSink, guard, permanent, transient
from tests.sms_world import DAYTIME, NIGHT, job, states


def test_a_job_is_sent_once_with_its_marker_and_validity(world):
    engine, clock, gateway, ledger, dispatcher = world
    j = job("g:G1", sms_directory.G[1], priority=Priority.EMERGENCY)
    dispatcher.dispatch([j, j])
    dispatcher.dispatch([j])  # redelivered by Kafka after a crash: already in the ledger
    assert len(gateway.sent) == 1
    message = next(iter(gateway.sent.values()))
    assert message.status_callback.endswith(f"/sms/status?job={job_marker(j.dedup_key)}")
    assert gateway.validity[message.sid] == 1800  # emergencies carry a short ValidityPeriod
    assert states(engine) == {"g:G1": "accepted"}


def test_transient_failure_retries_later_without_blocking_the_others(world):
    engine, clock, gateway, ledger, dispatcher = world
    gateway.by_number[sms_directory.G[1]] = transient(429)  # by number: the two sends run in parallel threads
    dispatcher.dispatch([job("g:G1", sms_directory.G[1]), job("g:G2", sms_directory.G[2])])
    assert states(engine) == {"g:G1": "retry", "g:G2": "accepted"}
    del gateway.by_number[sms_directory.G[1]]
    assert dispatcher.sweep() == []  # not due yet: no sleeping, the clock decides
    clock.advance(1.01)
    dispatcher.sweep()
    assert states(engine)["g:G1"] == "accepted"
    assert sorted(m.to for m in gateway.sent.values()) == [sms_directory.G[1], sms_directory.G[2]]


def test_backoff_grows_with_jitter_and_gives_up(world):
    engine, clock, gateway, ledger, dispatcher = world
    gateway.by_number[sms_directory.G[3]] = transient(500)
    dispatcher.dispatch([job("g:G3", sms_directory.G[3])])
    delays = []
    for _ in range(5):
        with engine.connect() as conn:
            due = conn.execute(SmsLedgerEntry.__table__.select()).one().due_at
        if due is None:
            break
        delays.append(due - clock.now().timestamp())
        clock.advance(due - clock.now().timestamp() + 0.001)
        dispatcher.sweep()
    assert delays[0] < delays[1] < delays[2]
    assert 0.5 <= delays[0] <= 1 and 2 <= delays[2] <= 4
    assert states(engine) == {"g:G3": "failed"}
    assert gateway.calls == 4 and gateway.sent == {}


def test_lost_response_is_reconciled_not_resent(world):
    engine, clock, gateway, ledger, dispatcher = world
    gateway.fail_next(LOSE_RESPONSE)
    dispatcher.dispatch([job("g:G1", sms_directory.G[1])])
    assert states(engine) == {"g:G1": "reconcile"}
    clock.advance(3)
    dispatcher.sweep()
    assert states(engine) == {"g:G1": "accepted"}
    assert gateway.calls == 1 and len(gateway.sent) == 1 and gateway.lookups == 1
    with engine.connect() as conn:
        assert conn.execute(SmsLedgerEntry.__table__.select()).one().sid == next(iter(gateway.sent))


def test_ambiguous_failure_that_was_not_accepted_is_sent_after_reconciling(world):
    from alerts.gateway import AmbiguousSendError

    engine, clock, gateway, ledger, dispatcher = world
    gateway.fail_next(AmbiguousSendError("connection reset"))
    dispatcher.dispatch([job("g:G1", sms_directory.G[1])])
    clock.advance(3)
    dispatcher.sweep()
    assert states(engine) == {"g:G1": "accepted"} and len(gateway.sent) == 1 and gateway.lookups == 1


def test_a_dispatcher_that_died_mid_send_is_reconciled_after_its_lease(world):
    engine, clock, gateway, ledger, dispatcher = world
    j = job("g:G1", sms_directory.G[1])
    claimed = ledger.claim_new([j], owner="dead-dispatcher", lease_s=30)
    gateway.send(to=j.to, body=j.body, status_callback=dispatcher.callback_url(claimed[0].marker))  # then SIGKILL
    assert dispatcher.sweep() == []  # the lease still runs
    clock.advance(31)
    dispatcher.sweep()
    assert states(engine) == {"g:G1": "accepted"} and len(gateway.sent) == 1


def test_unsubscribed_becomes_an_opt_out_and_the_next_guardian_is_tried(world):
    engine, clock, gateway, ledger, dispatcher = world
    gateway.by_number[sms_directory.G[1]] = permanent(21610)
    dispatcher.dispatch([job("g:G1", sms_directory.G[1], guaranteed_reach=True)])
    assert states(engine) == {"g:G1": "refused"}
    assert ledger.opted_out({sms_directory.G[1]}) == {sms_directory.G[1]}
    sink = FakeSink()
    assert GuardianFallback(engine, ledger, sink, clock).emit() == 1  # C1 and C2 both fall to G2: one job
    fallback = decode(sink.sent[0][1], SmsJobEvent).data
    assert (fallback.recipient_id, fallback.to, fallback.contact_order) == ("g:G2", sms_directory.G[2], 1)
    assert GuardianFallback(engine, ledger, sink, clock).emit() == 0  # the flag was cleared
    dispatcher.dispatch([fallback])
    assert [m.to for m in gateway.sent.values()] == [sms_directory.G[2]]


def test_invalid_and_landline_numbers_are_classified_without_opt_out(world):
    engine, clock, gateway, ledger, dispatcher = world
    gateway.by_number[sms_directory.G[4]] = permanent(21211)
    gateway.by_number[sms_directory.G[5]] = permanent(21614)
    dispatcher.dispatch([job("g:G4", sms_directory.G[4]), job("g:G5", sms_directory.G[5])])
    with engine.connect() as conn:
        rows = {r.recipient_id: (r.state, r.error_code, r.fallback_pending)
                for r in conn.execute(SmsLedgerEntry.__table__.select())}
    assert rows == {"g:G4": ("refused", 21211, False), "g:G5": ("refused", 21614, False)}
    assert ledger.opted_out({sms_directory.G[4], sms_directory.G[5]}) == set()


def test_opt_outs_hold_for_normal_and_urgent_but_not_emergencies(world):
    engine, clock, gateway, ledger, dispatcher = world
    set_opt_out(engine, sms_directory.G[1], "inbound_stop", clock)
    dispatcher.dispatch([job("g:G1", sms_directory.G[1], Priority.NORMAL, alert="N"),
                         job("g:G1", sms_directory.G[1], Priority.URGENT, alert="U"),
                         job("g:G1", sms_directory.G[1], Priority.EMERGENCY, alert="E")])
    with engine.connect() as conn:
        rows = {r.alert_id: r.state for r in conn.execute(SmsLedgerEntry.__table__.select())}
    assert rows == {"N": "skipped", "U": "skipped", "E": "accepted"}
    assert len(gateway.sent) == 1


def test_quiet_hours_hold_normal_messages_until_morning_but_never_emergencies(world):
    engine, clock, gateway, ledger, dispatcher = world
    clock.advance(NIGHT - clock.now())
    dispatcher.dispatch([job("g:G1", sms_directory.G[1], Priority.NORMAL, alert="N"),
                         job("g:G2", sms_directory.G[2], Priority.EMERGENCY, alert="E")])
    assert [m.to for m in gateway.sent.values()] == [sms_directory.G[2]]
    clock.advance(timedelta(hours=7, minutes=59))  # 06:59 Shanghai
    dispatcher.sweep()
    assert len(gateway.sent) == 1
    clock.advance(timedelta(minutes=1))  # 07:00
    dispatcher.sweep()
    assert sorted(m.to for m in gateway.sent.values()) == [sms_directory.G[1], sms_directory.G[2]]


def test_a_stale_emergency_expires_instead_of_arriving_late(world):
    engine, clock, gateway, ledger, dispatcher = world
    gateway.fail_next(transient(503))
    dispatcher.dispatch([job("g:G1", sms_directory.G[1], Priority.EMERGENCY, validity_seconds=60)])
    clock.advance(61)
    dispatcher.sweep()
    assert states(engine) == {"g:G1": "expired"} and gateway.sent == {}


def test_a_lost_response_is_found_when_the_number_has_more_than_one_page_of_messages(db_url, tmp_path, sms_sandbox):
    """The real gateway (twilio SDK) against the sandbox: the provider stored the message but the answer was lost,
    and by the time the dispatcher reconciles, 60 newer messages to the same number push it off the newest 20
    (one page of the old look-up). Reading one page said "the provider never had it" and sent it again."""
    import random

    from alerts.sandbox import FaultPlan, FaultRule
    from alerts.twilio_gateway import TwilioGateway
    from consumers.sms.backoff import Backoff
    from consumers.sms.cancellation_book import CancellationBook
    from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
    from consumers.sms.ledger import SmsLedger
    from consumers.store.db import make_engine
    from contracts.clock import FakeClock

    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "dir")
    clock = FakeClock(DAYTIME)
    gateway = TwilioGateway(account_sid=sms_sandbox.account_sid, auth_token=sms_sandbox.auth_token,
                            from_number="+447700900999", base_url=sms_sandbox.url, timeout=5.0)
    settings = DispatchSettings(lease_s=30, reconcile_delay_s=2, backoff=Backoff(base_s=1, cap_s=8, max_attempts=4),
                                concurrency=1)
    dispatcher = SmsDispatcher(SmsLedger(engine, clock), gateway, clock, settings,
                               cancellations=CancellationBook(engine, clock), rng=random.Random(1), owner="dispatcher-test",
                               guard=guard("sms-dispatch"))
    try:
        to = sms_directory.G[1]
        j = job("g:G1", to)
        sms_sandbox.set_faults(FaultPlan([FaultRule("response_lost")]))
        dispatcher.dispatch([j])
        assert states(engine) == {"g:G1": "reconcile"}
        sms_sandbox.set_faults(FaultPlan([]))
        for i in range(60):  # other alerts' messages to the same guardian, sent before the reconcile comes round
            gateway.send(to=to, body=f"【儿童安全】另一条提醒 {i}", status_callback="http://127.0.0.1:9/sms/status?job=other")
        clock.advance(3)
        dispatcher.sweep()
        assert states(engine) == {"g:G1": "accepted"}
        marker = job_marker(j.dedup_key)
        ours = [m for m in sms_sandbox.messages(to) if m["status_callback"].endswith(f"job={marker}")]
        assert len(ours) == 1, f"{len(ours)} messages for one job"
        with engine.connect() as conn:
            assert conn.execute(SmsLedgerEntry.__table__.select()).one().sid == ours[0]["sid"]
    finally:
        dispatcher.close()
        engine.dispose()
