"""Item 18/22 agents on the real broker: recall matching over the holdings topic, the disclosure feed,
CAP XML intake refusing hostile XML while the worker keeps running, missing-child widening and cancellation."""

from __future__ import annotations

import uuid

import httpx
import pytest

from contracts.cap import to_cap
from contracts.codec import decode
from contracts.events import AlertCancelledEvent, AlertRequestedEvent, SchoolLocatedEvent
from contracts.school_location import SchoolLocated
from contracts.topics import ALERTS_CANCELLED, ALERTS_REQUESTED, REGISTRATIONS, SCHOOL_LOCATIONS
from ops.topics_admin import apply_topics
from tests.cap_samples import HOSTILE
from tests.cap_samples import missing_child_alert as _missing_child
from tests.integration.helpers import StreamsWorker, producer, read_topic
from tests.recall_fixtures import SCOOTER_GTIN, holdings_event
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration

RING_KM = [50, 150, 250]  # fictional schools north of (40.0, 100.0)
SCOOTER = {"product_name": "儿童滑板车", "brand": "示例牌", "model": "HB-200", "batch": "20260601",
           "barcode": SCOOTER_GTIN}


class Worker(StreamsWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # widening every 6 s instead of every hour (minutes:km), checked twice a second
        self.env.update(CHILDSAFE_MISSING_CHILD_WIDENING="0:100,0.1:200,0.2:300",
                        CHILDSAFE_MISSING_CHILD_TICK_S="0.5")


@pytest.fixture(scope="module")
def worker(kafka_bootstrap, tmp_path_factory):
    namespace = f"rc{uuid.uuid4().hex[:8]}"
    apply_topics(kafka_bootstrap, namespace)
    p = producer(kafka_bootstrap)
    for km in RING_KM:
        school = SchoolLocated(school_id=f"S-{km:03d}KM", district_code="620100", lat=40.0 + km / 111.2, lon=100.0)
        p.send(SCHOOL_LOCATIONS.name(namespace), key=school.school_id.encode(),
               value=SchoolLocatedEvent.new(school, source="/test").to_bytes())
    for h in (holdings_event("G-EXACT", SCOOTER), holdings_event("SCH-310115-0001", {**SCOOTER, "batch": None},
                                                                 kind="school"),
              holdings_event("G-LOOKALIKE", {**SCOOTER, "barcode": "6901234567908"}),
              holdings_event("G-NAME", {"product_name": "儿童滑板车"})):
        p.send(REGISTRATIONS.name(namespace), key=h.data.holder_key.encode(), value=h.to_bytes())
    p.flush()
    p.close()
    w = Worker(kafka_bootstrap, namespace, tmp_path_factory.mktemp("streams"))
    w.start()
    w.wait_http(90)
    # a recall is matched against the holdings the worker has indexed: wait until all four are in its table
    changelog = f"{namespace}-streams-recall-holdings-changelog"
    assert len({r.key for r in read_topic(kafka_bootstrap, changelog, timeout=60,
                                          until=lambda rs: len({r.key for r in rs}) >= 4)}) >= 4
    w.namespace = namespace
    yield w
    w.stop()


def _requested(bootstrap, namespace, prefix, until, timeout=60, settle=0.0):
    records = read_topic(bootstrap, ALERTS_REQUESTED.name(namespace), timeout=timeout, settle=settle,
                         until=lambda rs: until([r for r in rs if r.key.decode().startswith(prefix)]))
    return [decode(r.value, AlertRequestedEvent).data for r in records if r.key.decode().startswith(prefix)]


def _cancelled(bootstrap, namespace, ids, timeout=60):
    records = read_topic(bootstrap, ALERTS_CANCELLED.name(namespace), timeout=timeout,
                         until=lambda rs: set(ids) <= {r.key.decode() for r in rs})
    return {decode(r.value, AlertCancelledEvent).data.alert_id for r in records}


def test_recall_matches_holdings_feeds_disclosure_and_withdrawal_cancels(worker, kafka_bootstrap):
    from tests.recall_fixtures import recall

    notice = recall(recall_number="SAMR-IT-0001").model_dump(mode="json", exclude_none=True)
    assert worker.post("/v1/recalls", notice).status_code == 202
    alerts = _requested(kafka_bootstrap, worker.namespace, "recall:SAMR-IT-0001:", lambda rs: len(rs) >= 2)
    holders = sorted(h for a in alerts for h in a.audience.school_ids + a.audience.guardian_ids)
    assert holders == ["G-EXACT", "SCH-310115-0001"], "look-alike and name-only holders are not alerted"
    feed = _feed(worker, lambda f: f["items"])
    assert feed["items"][0]["recall_number"] == "SAMR-IT-0001" and feed["items"][0]["status"] == "published"
    assert httpx.get(worker.url + "/v1/recalls/published?per_page=1000", timeout=10).status_code == 422
    withdrawn = {**notice, "action": "withdrawn"}
    assert worker.post("/v1/recalls", withdrawn, headers={"Idempotency-Key": "withdraw-it-1"}).status_code == 202
    ids = [a.alert_id for a in alerts]
    assert set(ids) <= _cancelled(kafka_bootstrap, worker.namespace, ids)
    assert _feed(worker, lambda f: f["items"][0]["status"] == "withdrawn")["items"][0]["status"] == "withdrawn"


def _feed(worker, until, timeout=30.0) -> dict:
    """The disclosure feed, polled until ``until(feed)`` (the feed's own agent is one hop behind the match)."""
    def feed() -> dict:
        page = httpx.get(worker.url + "/v1/recalls/published?page=1&per_page=10", timeout=10).json()
        assert until(page), page
        return page

    return wait_for(feed, timeout=timeout, every=0.3)


def _cap_post(worker, body: bytes) -> httpx.Response:
    return httpx.post(worker.url + "/v1/emergency-alerts", content=body, timeout=60,
                      headers={"Content-Type": "application/cap+xml", "Authorization": f"Bearer {worker.token}"})


def test_hostile_xml_is_refused_and_the_worker_keeps_running(worker, kafka_bootstrap):
    for name, body in HOSTILE.items():
        resp = _cap_post(worker, body)
        assert resp.status_code == 400, (name, resp.text)
        assert "not accepted" in resp.json()["errors"][0]["reason"]
    try:
        resp = _cap_post(worker, b"<alert>" + b"x" * (50 * 1024 * 1024) + b"</alert>")
        assert resp.status_code == 413 and "larger than" in resp.json()["error"]
    except httpx.HTTPError:  # the server may close the connection after answering 413 mid-upload
        pass
    exercise = _missing_child(f"EX-{uuid.uuid4().hex[:6]}", status="Exercise")
    assert _cap_post(worker, to_cap(exercise)).status_code == 202, "the worker still accepts valid CAP"
    [ring0] = _requested(kafka_bootstrap, worker.namespace, "mc:", lambda rs: any(a.exercise for a in (
        decode(r.value, AlertRequestedEvent).data for r in rs)))[:1] or [None]
    assert ring0 is not None and ring0.exercise


def test_missing_child_widens_to_new_schools_then_stops_when_found(worker, kafka_bootstrap):
    alert = _missing_child(f"MC-{uuid.uuid4().hex[:6]}")
    assert _cap_post(worker, to_cap(alert)).status_code == 202

    def actual(rs):
        return [a for a in (decode(r.value, AlertRequestedEvent).data for r in rs) if not a.exercise]

    rings = _requested(kafka_bootstrap, worker.namespace, "mc:", lambda rs: len(actual(rs)) >= 2, timeout=60)
    rings = [a for a in rings if not a.exercise]
    assert [a.audience.school_ids for a in rings[:2]] == [["S-050KM"], ["S-150KM"]], "each ring: new schools only"
    found = _missing_child(alert.identifier + "-F", msg_type="Update", found=True,
                           refs=[(alert.identifier, alert.sent)])
    assert _cap_post(worker, to_cap(found)).status_code == 202
    issued = [a.alert_id for a in _requested(kafka_bootstrap, worker.namespace, "mc:", lambda rs: True)
              if not a.exercise]
    assert set(issued) <= _cancelled(kafka_bootstrap, worker.namespace, issued)
    later = _requested(kafka_bootstrap, worker.namespace, "mc:", lambda rs: False, timeout=8)
    assert len([a for a in later if not a.exercise]) == len(issued), "no ring after the child was found"
