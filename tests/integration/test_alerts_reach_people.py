"""Issue 5 end to end: HTTP intake → streams agents → alerts.requested / alerts.cancelled → SMS fan-out and
dispatcher → the real twilio SDK over HTTP → the local sandbox. Real broker, real database (SQLite), one
streams worker subprocess shared by the three tests; reference topics published by `directory publish`."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from alerts.sandbox import SmsSandbox
from consumers.directory.csv_import import import_directory
from consumers.sms.ledger import SmsLedger
from consumers.store.db import make_engine
from consumers.store.migrate import upgrade
from contracts.cap import to_cap
from contracts.clock import SystemClock
from contracts.emergency import EmergencyAlertIssued
from ops.commands.directory_cmd import publish_reference_topics
from ops.topics_admin import apply_topics
from tests import sms_directory
from tests.cap_samples import missing_child_alert as _missing_child
from tests.integration.helpers import SmsWorkers, StreamsWorker, read_topic, settings_for
from tests.recall_fixtures import OTHER_GTIN, SCOOTER_GTIN, recall
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration

CRIB_GTIN = "6901234567915"
PHONES = {}


def phone(who: str) -> str:
    """Numbers from the generator's documented +86 199 block (sandbox only), one per recipient."""
    return PHONES.setdefault(who, f"+861990001{len(PHONES):04d}")


SCHOOLS = {"SCH-A": (31.20, 121.50), "SCH-B": (31.21, 121.52), "SCH-FAR": (31.60, 120.90),
           **{f"SCH-{km:03d}KM": (40.0 + km / 111.2, 100.0) for km in (50, 150, 250)}}
CHILDREN = {"C-A1": ("SCH-A", ["G-A1", "G-A2"]), "C-B1": ("SCH-B", ["G-B1"]), "C-F1": ("SCH-FAR", ["G-F1"]),
            **{f"C-{km}": (f"SCH-{km:03d}KM", [f"G-{km}"]) for km in (50, 150, 250)}}
HOLDERS_ONLY = ["G-EXACT", "G-STRONG", "G-WEAK", "G-LOOK", "G-CRIB"]
REGISTRATIONS = [  # id, holder kind, holder, kind, name, brand, model, batch, barcode
    ("P1", "guardian", "G-EXACT", "toy", "儿童滑板车", "示例牌", "HB-200", "20260601", SCOOTER_GTIN),
    ("P2", "guardian", "G-STRONG", "toy", "儿童滑板车", "示例牌", "HB-200", "", SCOOTER_GTIN),
    ("P3", "guardian", "G-WEAK", "toy", "儿童滑板车", "", "", "", ""),
    ("P4", "guardian", "G-LOOK", "toy", "儿童滑板车", "示例牌", "HB-200", "20260601", OTHER_GTIN),
    ("P5", "school", "SCH-FAR", "toy", "儿童滑板车", "示例牌", "HB-200", "", ""),
    ("P6", "guardian", "G-CRIB", "crib", "婴儿床", "测试童床", "BB-12", "", CRIB_GTIN),
    ("P7", "school", "SCH-B", "crib", "婴儿床", "测试童床", "BB-12", "", CRIB_GTIN),
]


def directory_files() -> dict[str, str]:
    guardians = [g for _, gs in CHILDREN.values() for g in gs] + HOLDERS_ONLY
    return {
        "schools.csv": "id,name,kind,district_code,lat,lon\n" + "".join(
            f"{s},测试学校 {s},primary,{'620100' if 'KM' in s else '310115'},{lat:.5f},{lon:.5f}\n"
            for s, (lat, lon) in SCHOOLS.items()),
        "classes.csv": "id,school_id,name,grade\n" + "".join(f"{s}-K1,{s},一班,1\n" for s in SCHOOLS),
        "children.csv": "id,school_id,class_id\n" + "".join(f"{c},{s},{s}-K1\n" for c, (s, _) in CHILDREN.items()),
        "guardians.csv": "id,phone,language\n" + "".join(f"{g},{phone(g)},zh-CN\n" for g in guardians),
        "child_guardians.csv": "child_id,guardian_id,contact_order\n" + "".join(
            f"{c},{g},{n}\n" for c, (_, gs) in CHILDREN.items() for n, g in enumerate(gs)),
        "school_contacts.csv": "id,school_id,role,phone,language,contact_order\n" + "".join(
            f"{s}-head,{s},head,{phone(s + '-head')},zh-CN,0\n" for s in SCHOOLS),
        "product_registrations.csv": "id,holder_kind,holder_id,product_kind,product_name,brand,model,batch,barcode\n"
                                     + "".join(",".join(r) + "\n" for r in REGISTRATIONS),
    }


class Worker(StreamsWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # rings at 0 s, 6 s and 18 s instead of 0 h, 1 h and 2 h (minutes:km), checked twice a second
        self.env.update(CHILDSAFE_MISSING_CHILD_WIDENING="0:100,0.1:200,0.3:300", CHILDSAFE_MISSING_CHILD_TICK_S="0.5")


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, tmp_path_factory):
    run = tmp_path_factory.mktemp("alerts-e2e")
    namespace = f"ar{uuid.uuid4().hex[:8]}"
    apply_topics(kafka_bootstrap, namespace)
    db_url = f"sqlite:///{run / 'childsafe.db'}"
    upgrade(db_url)
    engine = make_engine(db_url)
    import_directory(engine, [sms_directory.write(run / "dir", directory_files())])
    sandbox = SmsSandbox(step_seconds=0.01).start()
    shanghai = datetime.now(ZoneInfo("Asia/Shanghai"))  # quiet hours now: normal-priority sends are held
    settings = settings_for(kafka_bootstrap, namespace, db_url, sandbox,
                            sms_quiet_start=(shanghai - timedelta(hours=1)).time().replace(microsecond=0),
                            sms_quiet_end=(shanghai + timedelta(hours=1)).time().replace(microsecond=0))
    published = publish_reference_topics(settings)  # what `childsafe directory import` runs after importing
    assert published["published"] and published["holders"] == 7 and published["schools"] == 6, published
    worker = Worker(kafka_bootstrap, namespace, run)
    worker.start()
    sms = SmsWorkers(settings)
    try:
        worker.wait_http(90)
        # a recall is matched against the holdings the worker has indexed: wait until all 7 are in its table
        # (their changelog records are written with each batch), as a deployment loads holdings first
        changelog = f"{namespace}-streams-recall-holdings-changelog"
        assert len(read_topic(kafka_bootstrap, changelog, until=lambda rs: len(rs) >= 7, timeout=60)) >= 7
        sms.thread.start()
        yield worker, sandbox, SmsLedger(engine, SystemClock())
    finally:
        sms.close()
        worker.stop()
        sandbox.stop()
        engine.dispose()


def sent(sandbox, marker: str) -> list[dict]:
    return [m for m in sandbox.messages() if marker in m["body"]]


def test_a_recall_reaches_exactly_the_matched_holders_and_a_withdrawal_stops_pending_sends(stack):
    worker, sandbox, ledger = stack
    notice = recall(recall_number="SAMR-E2E-1").model_dump(mode="json", exclude_none=True)
    assert worker.post("/v1/recalls", notice).status_code == 202
    expected = {phone("G-EXACT"), phone("G-STRONG"), phone("SCH-FAR-head")}
    wait_for(lambda: len(sent(sandbox, "SAMR-E2E-1")) >= len(expected), timeout=60, every=0.2)
    time.sleep(2)  # anything extra would have arrived by now
    messages = sent(sandbox, "SAMR-E2E-1")
    assert sorted(m["to"] for m in messages) == sorted(expected), "exact + strong only, each once"
    assert not {phone("G-WEAK"), phone("G-LOOK")} & {m["to"] for m in messages}

    crib = recall(recall_number="SAMR-E2E-2", product_name="婴儿床", product_kind="crib", brand="测试童床",
                  model="BB-12", batch=None, barcode=CRIB_GTIN, risk_level="low")  # normal priority: held
    crib_json = crib.model_dump(mode="json", exclude_none=True)
    assert worker.post("/v1/recalls", crib_json).status_code == 202
    def both_held():
        held = [a for a, n in _alert_states(ledger, "recall:SAMR-E2E-2:").items() if n == {"held"}]
        return held if len(held) >= 2 else None

    held = wait_for(both_held, timeout=60, every=0.2) or []
    assert len(held) == 2, "the school's and the guardian's crib alerts wait for the end of quiet hours"
    assert worker.post("/v1/recalls", {**crib_json, "action": "withdrawn"},
                       headers={"Idempotency-Key": "withdraw-e2e-2"}).status_code == 202
    states = wait_for(lambda: (s := _alert_states(ledger, "recall:SAMR-E2E-2:")) and all(
        v == {"cancelled"} for v in s.values()) and s, timeout=30)
    assert states and all(v == {"cancelled"} for v in states.values()), _alert_states(ledger, "recall:SAMR-E2E-2:")
    assert sent(sandbox, "SAMR-E2E-2") == []


def _alert_states(ledger, prefix: str) -> dict[str, set[str]]:
    from sqlalchemy import select

    from consumers.sms.ledger import T

    with ledger.engine.connect() as conn:
        rows = conn.execute(select(T.c.alert_id, T.c.state).where(T.c.alert_id.like(prefix + "%"))).all()
    out: dict[str, set[str]] = {}
    for alert_id, state in rows:
        out.setdefault(alert_id, set()).add(state)
    return out


def test_a_cap_exercise_reaches_the_schools_in_its_area_marked_as_a_drill(stack):
    worker, sandbox, _ = stack
    now = datetime.now(timezone.utc).replace(microsecond=0)
    drill = EmergencyAlertIssued.model_validate(dict(
        identifier=f"DRILL-{uuid.uuid4().hex[:6]}", sender="drills@example.invalid", sent=now, status="Exercise",
        msg_type="Alert", scope="Public", categories=["Met"], event="暴雨演练", urgency="Immediate",
        severity="Severe", certainty="Observed",
        areas=[{"area_desc": "演练区", "circles": [{"center": {"lat": 31.205, "lon": 121.51}, "radius_km": 5}]}]))
    resp = worker.post("/v1/emergency-alerts", to_cap(drill), headers={"content-type": "application/cap+xml"})
    assert resp.status_code == 202, resp.text
    expected = {phone("SCH-A-head"), phone("SCH-B-head"), phone("G-A1"), phone("G-B1")}  # first guardians only
    wait_for(lambda: len(sent(sandbox, "暴雨演练")) >= len(expected), timeout=60, every=0.2)
    time.sleep(2)
    messages = sent(sandbox, "暴雨演练")
    assert sorted(m["to"] for m in messages) == sorted(expected)
    assert all(m["body"].startswith("【演练】") for m in messages), [m["body"] for m in messages]


def test_a_missing_child_reaches_each_ring_once_and_found_stops_every_further_sms(stack):
    worker, sandbox, _ = stack
    alert = _missing_child(f"MC-{uuid.uuid4().hex[:6]}")
    assert worker.post("/v1/emergency-alerts", to_cap(alert), headers={"content-type": "application/cap+xml"}
                       ).status_code == 202
    ring0 = {phone("SCH-050KM-head"), phone("G-50")}
    ring1 = {phone("SCH-150KM-head"), phone("G-150")}
    ring2 = {phone("SCH-250KM-head"), phone("G-250")}

    def missing_sms():
        return [m for m in sandbox.messages() if "走失" in m["body"]]

    wait_for(lambda: {m["to"] for m in missing_sms()} >= ring0, timeout=60)
    assert {m["to"] for m in missing_sms()} == ring0, "the first ring: schools within 100 km"
    wait_for(lambda: {m["to"] for m in missing_sms()} >= ring0 | ring1, timeout=30)
    found = _missing_child(alert.identifier + "-F", msg_type="Update", found=True,
                           refs=[(alert.identifier, alert.sent)])
    assert worker.post("/v1/emergency-alerts", to_cap(found), headers={"content-type": "application/cap+xml"}
                       ).status_code == 202
    widened = missing_sms()
    assert sorted(m["to"] for m in widened) == sorted(ring0 | ring1), "the widening reached only the new school"
    remaining = (alert.sent + timedelta(seconds=18) - datetime.now(timezone.utc)).total_seconds()
    time.sleep(max(0.0, remaining) + 4)  # past the third ring's time, with room for it to travel
    assert not ring2 & {m["to"] for m in missing_sms()}, "found: no further ring"
    assert len(missing_sms()) == len(widened), "found: no further SMS at all"
