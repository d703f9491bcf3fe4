"""Issue 9 items 5 and 7 end to end on the shared broker: HTTP intake (CAP XML) → streams worker → alerts →
SMS fan-out and dispatcher → the real twilio SDK → the local sandbox, with the case desk publishing a
missing-child alert through its outbox. An expired CAP alert and a Draft send nothing and the alert record
(audit topic) says why; an Exercise reaches its area marked 【演练】; a three-district geocode alert reaches
all three districts and not their neighbours; a Cancel from another sender is refused with 422; a missing
child published from a case widens ring by ring and `found` stops every further SMS."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from alerts.sandbox import FaultPlan, SmsSandbox
from consumers.cases.clocks import ClockPolicy
from consumers.cases.missing_child import MissingChildDesk
from consumers.cases.opening import CaseOpener, CaseTopics, Position
from consumers.cases.outbox import OutboxRelay
from consumers.cases.tokens import issue_token
from consumers.directory.csv_import import import_directory
from consumers.kafka_io import AcknowledgedProducer
from consumers.store.db import make_engine, session_factory, transaction
from consumers.store.migrate import upgrade
from contracts.cap import to_cap
from contracts.clock import SystemClock
from contracts.codec import decode
from contracts.emergency import EmergencyAlertIssued
from contracts.events import AuditRecordedEvent, OpenCaseCommand
from contracts.topics import ALERTS_REQUESTED, AUDIT, DEADLETTER, EMERGENCY_ALERTS
from ops.bootstrap import publish_reference_topics
from ops.settings import Settings
from ops.topics_admin import apply_topics
from tests import sms_directory
from tests.cases_fixtures import DISTRICT, open_case, seed_organisations
from tests.integration.helpers import SmsWorkers, StreamsWorker, read_topic
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration

AUTHORITY = "weather.sh@example.invalid"
# fictional schools: one per Shanghai district (Yangpu, Minhang, Baoshan, Pudong, Huangpu), and a line north
# of (40.0, 100.0) for the missing-child rings (the case's school sits at the centre)
SCHOOLS = {"S-YANGPU": ("310110", 31.27, 121.52), "S-MINHANG": ("310112", 31.11, 121.38),
           "S-BAOSHAN": ("310113", 31.40, 121.49), "S-PUDONG": ("310115", 31.22, 121.54),
           "S-HUANGPU": ("310101", 31.23, 121.48), "sch-mc-home": ("620100", 40.0, 100.0),
           **{f"S-{km:03d}KM": ("620100", 40.0 + km / 111.2, 100.0) for km in (50, 150, 250)}}


def phone(school: str) -> str:
    """Numbers from the generator's documented +86 199 block (sandbox only), one per school head."""
    return f"+861990002{list(SCHOOLS).index(school):04d}"


def directory_files() -> dict[str, str]:
    return {"schools.csv": "id,name,kind,district_code,lat,lon\n" + "".join(
                f"{s},测试学校 {s},primary,{d},{lat:.5f},{lon:.5f}\n" for s, (d, lat, lon) in SCHOOLS.items()),
            "school_contacts.csv": "id,school_id,role,phone,language,contact_order\n" + "".join(
                f"{s}-head,{s},head,{phone(s)},zh-CN,0\n" for s in SCHOOLS)}


class Worker(StreamsWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # rings at 0 s, 12 s and 60 s instead of 0 h, 1 h and 2 h (minutes:km), checked twice a second
        self.env.update(CHILDSAFE_MISSING_CHILD_WIDENING="0:100,0.2:200,1:300", CHILDSAFE_MISSING_CHILD_TICK_S="0.5")


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, tmp_path_factory):
    run = tmp_path_factory.mktemp("cap-semantics")
    namespace = f"cs{uuid.uuid4().hex[:8]}"
    apply_topics(kafka_bootstrap, namespace)
    db_url = f"sqlite:///{run / 'childsafe.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with transaction(factory) as s:
        seed_organisations(s)
    import_directory(engine, [sms_directory.write(run / "dir", directory_files())])
    sandbox = SmsSandbox(faults=FaultPlan(), step_seconds=0.01).start()
    settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=db_url,
                        twilio_base_url=sandbox.url, twilio_account_sid=sandbox.account_sid,
                        twilio_auth_token=sandbox.auth_token, sms_callback_base_url="http://127.0.0.1:9",
                        sms_consumer_session_timeout_ms=6000, sms_rate_per_s=100_000)
    assert publish_reference_topics(settings)["schools"] == len(SCHOOLS)
    worker = Worker(kafka_bootstrap, namespace, run)
    worker.start()
    sms = SmsWorkers(settings)
    try:
        worker.wait_http(90)
        sms.thread.start()
        yield worker, sandbox, namespace, factory, kafka_bootstrap
    finally:
        sms.close()
        worker.stop()
        sandbox.stop()
        engine.dispose()


def cap(identifier: str, sender: str = AUTHORITY, **changes) -> EmergencyAlertIssued:
    base = dict(identifier=identifier, sender=sender, sent=datetime.now(UTC).replace(microsecond=0),
                status="Actual", msg_type="Alert", scope="Public", categories=["Met"], event=f"暴雨{identifier}",
                urgency="Immediate", severity="Severe", certainty="Observed",
                areas=[{"area_desc": "浦东新区", "geocodes": [{"name": "GB/T2260", "value": "310115"}]}])
    return EmergencyAlertIssued.model_validate({**base, **changes})


def post_cap(worker, alert):
    return worker.post("/v1/emergency-alerts", to_cap(alert), headers={"content-type": "application/cap+xml"})


def to(sandbox, marker: str) -> set[str]:
    return {m["to"] for m in sandbox.messages() if marker in m["body"]}


def record_of(bootstrap, namespace, identifier: str):
    def found(records):
        return [r for r in records if decode(r.value, AuditRecordedEvent).data.subject == identifier]

    hits = found(read_topic(bootstrap, AUDIT.name(namespace), until=lambda rs: bool(found(rs)), timeout=60))
    return decode(hits[0].value, AuditRecordedEvent).data if hits else None


def test_expired_and_draft_send_nothing_and_the_record_says_why(stack):
    worker, sandbox, namespace, _, bootstrap = stack
    tag = uuid.uuid4().hex[:6]
    expired = cap(f"EXP-{tag}", expires=datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1))
    draft = cap(f"DRAFT-{tag}", status="Draft")
    control = cap(f"CTRL-{tag}")  # sent after both: once it arrives, anything of theirs would have too
    for alert in (expired, draft, control):
        assert post_cap(worker, alert).status_code == 202
    assert wait_for(lambda: to(sandbox, control.event), timeout=60) == {phone("S-PUDONG")}
    assert not to(sandbox, expired.event) and not to(sandbox, draft.event)
    exp_record, draft_record = record_of(bootstrap, namespace, expired.identifier), record_of(
        bootstrap, namespace, draft.identifier)
    assert exp_record.outcome == "not_sent" and "expired at" in exp_record.reason
    assert draft_record.outcome == "not_sent" and "Draft" in draft_record.reason


def test_an_exercise_reaches_its_area_marked_as_a_drill(stack):
    worker, sandbox, *_ = stack
    drill = cap(f"EX-{uuid.uuid4().hex[:6]}", status="Exercise")
    assert post_cap(worker, drill).status_code == 202
    assert wait_for(lambda: to(sandbox, drill.event), timeout=60) == {phone("S-PUDONG")}
    assert all(m["body"].startswith("【演练】") for m in sandbox.messages() if drill.event in m["body"])


def test_a_three_district_geocode_alert_reaches_all_three_and_no_neighbour(stack):
    worker, sandbox, *_ = stack
    codes = [{"name": "GB/T2260", "value": v} for v in ("310110", "310113", "310101")]
    alert = cap(f"GEO-{uuid.uuid4().hex[:6]}", areas=[{"area_desc": "杨浦宝山黄浦", "geocodes": codes}])
    assert post_cap(worker, alert).status_code == 202
    expected = {phone("S-YANGPU"), phone("S-BAOSHAN"), phone("S-HUANGPU")}
    assert wait_for(lambda: to(sandbox, alert.event) >= expected and to(sandbox, alert.event), timeout=60) == expected
    assert phone("S-MINHANG") not in to(sandbox, alert.event), "Yangpu 310110 does not cover Minhang 310112"


def test_a_cancel_from_another_sender_is_refused_at_the_door(stack):
    worker, *_ = stack
    original = cap(f"OWN-{uuid.uuid4().hex[:6]}")
    assert post_cap(worker, original).status_code == 202
    forged = cap(original.identifier + "-X", sender="someone-else@example.invalid", msg_type="Cancel",
                 references=[{"sender": AUTHORITY, "identifier": original.identifier, "sent": original.sent}])
    resp = post_cap(worker, forged)
    assert resp.status_code == 422 and resp.json()["errors"][0]["field"] == "data.references", resp.text


def test_a_missing_child_published_from_a_case_widens_and_found_stops_every_sms(stack):
    worker, sandbox, namespace, factory, bootstrap = stack
    clock = SystemClock()
    case = open_case(91, category="missing_child", school="sch-mc-home", district=DISTRICT)
    with transaction(factory) as s:
        CaseOpener(ClockPolicy(), CaseTopics(ALERTS_REQUESTED.name(namespace), DEADLETTER.name(namespace))).handle(
            s, Position("t", 0, 1, None, OpenCaseCommand.new(case, source="/test").to_bytes()), clock.now())
        token = issue_token(s, "police_duty_officer", f"ps-{DISTRICT}", clock.now(), label="test")[1]
    desk = MissingChildDesk(factory, clock, EMERGENCY_ALERTS.name(namespace), sender="cases.e2e.childsafe")
    publisher = AcknowledgedProducer(bootstrap, "tests")
    relay = OutboxRelay(factory, publisher, clock, ClockPolicy())
    try:
        desk.publish(token, case.case_id, clock.now().isoformat(), 8, "红色外套", school_id=None)
        assert relay.publish_pending() == 2  # the case's duty alert and the missing-child CAP alert
        published_at = time.monotonic()
        ring0 = {phone("sch-mc-home"), phone("S-050KM")}  # the last-seen school itself and 50 km
        ring1, ring2 = {phone("S-150KM")}, {phone("S-250KM")}

        def missing() -> list[str]:
            return [m["to"] for m in sandbox.messages() if "走失" in m["body"]]

        assert wait_for(lambda: set(missing()) >= ring0, timeout=60), "first ring: within 100 km"
        assert wait_for(lambda: set(missing()) >= ring0 | ring1, timeout=60), "second ring: 100-200 km"
        desk.found(token, case.case_id, "found safe")
        assert relay.publish_pending() == 1
        found_at = time.monotonic()
        record = record_of(bootstrap, namespace, f"{case.case_id}-MC1-FOUND")
        assert record is not None and "child found" in record.reason
        assert time.monotonic() - found_at < 40, "found was routed well before the third ring was due"
        told = missing()
        deadline = published_at + 70  # the third ring was due 60 s after publishing: watch past it
        while time.monotonic() < deadline:
            assert not ring2 & set(missing()), "found: no further ring"
            time.sleep(0.5)
        assert missing() == told, "found: no further SMS at all"
        assert sorted(told) == sorted(set(told)) and set(told) == ring0 | ring1, "each school told once"
    finally:
        publisher.close()
