"""Emergency alerts ask for acknowledgement where the domain says they should, the SMS says how (within the segment
limits), replies are recorded against (alert, recipient), and "resend to those who have not acknowledged" follows
its rules: each refusal names its rule and says why."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from alerts.composition import Recipient, compose
from alerts.templates import ACK_SUFFIX
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.errors import ResendRefused, UnknownAlert
from consumers.sms.reminders import ReminderPolicy, resend_unacknowledged
from consumers.sms.replies import handle_reply
from consumers.store.sms_ledger import SmsAcknowledgement, SmsAlert, SmsLedgerEntry
from contracts.alert_cancel import AlertCancelled
from contracts.alert_request import AlertKind, AlertRequested, SchoolList
from contracts.cap.sms import asks_acknowledgement, cap_params, cap_priority
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.common import Language, Priority
from contracts.emergency import CapCertainty, CapMsgType, CapSeverity, CapStatus, CapUrgency
from contracts.events import AlertRequestedEvent, SmsJobEvent
from contracts.sms import SmsJob
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas, SchoolPlace
from streams.emergency.threads import handle
from tests.cap_samples import CLOCK_START, cap
from tests.databases import migrated_sqlite

ATLAS = SchoolAtlas([SchoolPlace("S-IN", "310115", 30.90, 121.90)])
NASTY = st.one_of(st.text(max_size=400), st.sampled_from(
    ["", "\n\r\n", "ＡＢＣ全角", "😀" * 200, "a\u200bb\u200f", "\u202e右到左", "x" * 5000, "。" * 90, "http://x.invalid"]))


def _requests(outputs) -> list[AlertRequested]:
    return [decode(o.value, AlertRequestedEvent).data for o in outputs if o.topic.suffix == "alerts.requested.v1"]


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from(list(CapStatus)), msg_type=st.sampled_from([CapMsgType.ALERT, CapMsgType.UPDATE]),
       urgency=st.sampled_from(list(CapUrgency)), severity=st.sampled_from(list(CapSeverity)),
       certainty=st.sampled_from(list(CapCertainty)))
def test_an_alert_asks_for_acknowledgement_exactly_when_it_is_an_actual_or_exercise_emergency(
        status, msg_type, urgency, severity, certainty):
    refs = ["A-0"] if msg_type is CapMsgType.UPDATE else []
    a = cap("A-1", msg_type=msg_type.value, status=status.value, refs=refs, urgency=urgency.value,
            severity=severity.value, certainty=certainty.value).data
    emergency = (urgency in (CapUrgency.IMMEDIATE, CapUrgency.EXPECTED) and severity in (CapSeverity.EXTREME,
                 CapSeverity.SEVERE) and certainty in (CapCertainty.OBSERVED, CapCertainty.LIKELY))
    assert (cap_priority(a) is Priority.EMERGENCY) == emergency
    assert asks_acknowledgement(a) == (emergency and status in (CapStatus.ACTUAL, CapStatus.EXERCISE))


def test_a_cancel_never_asks_and_the_streams_agent_sets_what_the_rule_says():
    assert not asks_acknowledgement(cap("A-2", msg_type="Cancel", refs=["A-1"]).data)
    conf = AlertingConfig()
    for status, severity, asks in (("Actual", "Severe", True), ("Exercise", "Extreme", True),
                                   ("Actual", "Moderate", False), ("Exercise", "Minor", False)):
        outputs, _ = handle(cap("A-1", status=status, severity=severity), 0, None, ATLAS, conf, CLOCK_START)
        [request] = _requests(outputs)
        assert request.requires_ack is asks, (status, severity)


@settings(max_examples=150, deadline=None)
@given(area=NASTY, event=NASTY.filter(lambda t: t.strip() != ""), instruction=NASTY, exercise=st.booleans(),
       lang=st.sampled_from([Language.ZH_CN, Language.EN]))
def test_the_sms_says_how_to_acknowledge_within_the_segment_limits(area, event, instruction, exercise, lang):
    """Whatever the sender wrote, an asking alert's body ends with the acknowledgement line and stays within the
    China guidance's 8 segments (the slots are cut to their limits before the line is added)."""
    try:
        a = cap("A-1", event=event, instruction=instruction or None,
                areas=[{"area_desc": area or "-", "geocodes": {"GB/T2260": "310115"}}]).data
        params = cap_params(a)
    except Exception:  # noqa: BLE001 - a notice that cannot be an alert is refused before any SMS (other tests)
        return
    request = AlertRequested(alert_id="cap:x:y:0", kind=AlertKind.CAP_EMERGENCY, priority=Priority.EMERGENCY,
                             audience=SchoolList(school_ids=["S-IN"]), params=params, exercise=exercise,
                             requires_ack=True, source_event_id="e", reason="test")
    sms = compose(request, Recipient("+8619900050001", lang))
    assert sms.body.endswith(ACK_SUFFIX[lang]) and sms.segments.segments <= 8


# ---- resend to those who have not acknowledged: the rules ----

@pytest.fixture()
def ledger(tmp_path):
    with migrated_sqlite(tmp_path) as engine:
        yield engine, FakeClock(CLOCK_START)


class Sink:
    def __init__(self):
        self.sent: list[tuple[bytes, bytes]] = []

    def send(self, key: bytes, value: bytes) -> None:
        self.sent.append((key, value))

    def flush(self) -> None:
        pass


def sent_alert(engine, clock, alert_id="cap:t:a:0", *, requires_ack=True, exercise=True, n=3) -> list[str]:
    """An alert the fan-out recorded and the provider accepted for ``n`` guardians; returns their numbers."""
    alert = AlertRequested(alert_id=alert_id, kind=AlertKind.CAP_EMERGENCY, priority=Priority.EMERGENCY,
                           audience=SchoolList(school_ids=["S-IN"]), params={"event": "暴雨"}, exercise=exercise,
                           requires_ack=requires_ack, source_event_id="e", reason="test")
    phones = [f"+86199000600{i:02d}" for i in range(n)]
    with engine.begin() as conn:
        conn.execute(SmsAlert.__table__.insert().values(alert_id=alert_id, request_json=alert.model_dump_json(),
                                                        requires_ack=requires_ack, fanout_done=True, jobs_emitted=n,
                                                        created_at=clock.now()))
        for i, phone in enumerate(phones):
            rid = f"g:G{i}"
            job = SmsJob(dedup_key=f"{alert_id}|{rid}", alert_id=alert_id, recipient_id=rid, to=phone,
                         body="【演练】测试", segments=1, priority="emergency")
            conn.execute(SmsLedgerEntry.__table__.insert().values(
                dedup_key=job.dedup_key, alert_id=alert_id, recipient_id=rid, marker=f"{alert_id}-{i}", phone=phone,
                state="accepted", provider_status="delivered", sid=f"SM{alert_id}{i}", attempts=1,
                job_json=job.model_dump_json(), created_at=clock.now().timestamp(),
                updated_at=clock.now().timestamp(), fallback_pending=False))
    return phones


def refusal(engine, clock, alert_id="cap:t:a:0", **kw) -> ResendRefused:
    sink = Sink()
    with pytest.raises(ResendRefused) as refused:
        resend_unacknowledged(engine, sink, clock, alert_id, **kw)
    assert sink.sent == [], "a refusal sends nothing"
    return refused.value


def test_a_reply_is_recorded_against_the_alert_and_recipient_and_the_round_reaches_only_the_others(ledger):
    engine, clock = ledger
    phones = sent_alert(engine, clock)
    assert handle_reply(engine, clock, phones[1], "收到", sid="SMin1").action == "ack"
    assert handle_reply(engine, clock, phones[1], "收到", sid="SMin1").action == "duplicate"
    with engine.connect() as conn:
        assert conn.execute(select(SmsAcknowledgement.alert_id, SmsAcknowledgement.recipient_id)).all() == [
            ("cap:t:a:0", "g:G1")]
    clock.advance(ReminderPolicy().min_wait)
    sink = Sink()
    done = resend_unacknowledged(engine, sink, clock, "cap:t:a:0", exercise=True)
    jobs = [decode(v, SmsJobEvent).data for _, v in sink.sent]
    assert done.reminded == 2 and sorted(j.to for j in jobs) == [phones[0], phones[2]]
    assert all(j.body.startswith("【演练】") and j.body.endswith(ACK_SUFFIX[Language.ZH_CN]) for j in jobs)


def test_too_early_then_allowed_once_the_wait_has_passed(ledger):
    engine, clock = ledger
    sent_alert(engine, clock)
    policy = ReminderPolicy(min_wait=timedelta(minutes=10))
    clock.advance(timedelta(minutes=9, seconds=59))
    early = refusal(engine, clock, policy=policy)
    assert early.rule == "too_early" and "600 s" in str(early)
    clock.advance(1)
    assert resend_unacknowledged(engine, Sink(), clock, "cap:t:a:0", policy=policy).reminded == 3
    assert refusal(engine, clock, policy=policy).rule == "too_early", "the wait counts from the last round"
    clock.advance(timedelta(minutes=10))
    assert resend_unacknowledged(engine, Sink(), clock, "cap:t:a:0", policy=policy).round_alert_id == "cap:t:a:0#r2"


def test_at_most_max_rounds(ledger):
    engine, clock = ledger
    sent_alert(engine, clock)
    policy = ReminderPolicy(min_wait=timedelta(0), max_rounds=2)
    for _ in range(2):
        resend_unacknowledged(engine, Sink(), clock, "cap:t:a:0", policy=policy)
    assert refusal(engine, clock, policy=policy).rule == "too_many_rounds"
    again = Sink()  # an explicit round repeats (finishes) that round: the ledger sends nothing twice
    assert resend_unacknowledged(engine, again, clock, "cap:t:a:0", round_no=2, policy=policy).reminded == 3


def test_exercise_and_actual_are_never_mixed(ledger):
    engine, clock = ledger
    sent_alert(engine, clock, exercise=True)
    clock.advance(ReminderPolicy().min_wait)
    mixed = refusal(engine, clock, exercise=False)
    assert mixed.rule == "mode" and "an exercise, not an actual alert" in str(mixed)
    sent_alert(engine, clock, "cap:t:b:0", exercise=False)
    clock.advance(ReminderPolicy().min_wait)
    assert refusal(engine, clock, "cap:t:b:0", exercise=True).rule == "mode"


def test_a_cancelled_alert_is_not_resent(ledger):
    engine, clock = ledger
    sent_alert(engine, clock)
    CancellationBook(engine, clock).record([AlertCancelled(alert_id="cap:t:a:0", reason="CAP Cancel A-2",
                                                           source_event_id="e-A-2", cancelled_at=clock.now())])
    clock.advance(ReminderPolicy().min_wait)
    cancelled = refusal(engine, clock)
    assert cancelled.rule == "cancelled" and "CAP Cancel A-2" in str(cancelled)


def test_no_ack_asked_nobody_left_and_bad_ids_are_refused_by_name(ledger):
    engine, clock = ledger
    sent_alert(engine, clock, "cap:t:n:0", requires_ack=False)
    phones = sent_alert(engine, clock, n=2)
    clock.advance(ReminderPolicy().min_wait)
    assert refusal(engine, clock, "cap:t:n:0").rule == "no_ack"
    for phone in phones:
        handle_reply(engine, clock, phone, "１")  # full-width 1 is 1
    assert refusal(engine, clock).rule == "nobody_left"
    with pytest.raises(UnknownAlert, match="alert_id"):
        resend_unacknowledged(engine, Sink(), clock, "cap:none:0")
    assert refusal(engine, clock, round_no=0).rule == "round"


@pytest.fixture(scope="module")
def empty_ledger(tmp_path_factory):
    with migrated_sqlite(tmp_path_factory.mktemp("ids")) as engine:
        yield engine


@settings(max_examples=40, deadline=None)
@given(alert_id=NASTY)
def test_any_alert_id_is_an_unknown_alert_never_a_crash(empty_ledger, alert_id):
    with pytest.raises(UnknownAlert, match="alert_id"):
        resend_unacknowledged(empty_ledger, Sink(), FakeClock(CLOCK_START), alert_id)
