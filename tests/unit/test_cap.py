"""CAP 1.2: own output validates against the OASIS schema and re-imports equal; hostile XML is refused."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree

from contracts import events as ev
from contracts.alert_request import AlertKind, AlertRequested
from contracts.cap import CapRejected, from_cap, to_cap
from contracts.cap.outbound import request_as_cap
from contracts.cap.schema import cap_schema
from contracts.emergency import EmergencyAlertIssued
from tests.cap_samples import HOSTILE
from tests.contract_samples import VALID

BEIJING = timezone(timedelta(hours=8))
SENT = datetime(2026, 11, 29, 10, 30, tzinfo=BEIJING)


def alert(**changes) -> EmergencyAlertIssued:
    base = dict(identifier="310115000000001_20261129103000_1", sender="emergency@example.invalid", sent=SENT,
                status="Actual", msg_type="Alert", scope="Public", categories=["Met", "Safety"], event="暴雨红色预警",
                urgency="Immediate", severity="Extreme", certainty="Observed", response_types=["Shelter"],
                headline="暴雨红色预警", description="未来3小时降雨量将超过100毫米。", instruction="学生留校，停止户外活动",
                expires=SENT + timedelta(hours=6), addresses=[],
                areas=[{"area_desc": "示例区东部", "geocodes": {"GB/T2260": "310115"},
                        "polygons": [[{"lat": 31.1, "lon": 121.5}, {"lat": 31.3, "lon": 121.5},
                                      {"lat": 31.3, "lon": 121.8}, {"lat": 31.1, "lon": 121.5}]],
                        "circles": [{"center": {"lat": 31.2, "lon": 121.55}, "radius_km": 12.5}]}])
    base.update(changes)
    return EmergencyAlertIssued.model_validate(base)


def _valid(xml: bytes) -> bool:
    return cap_schema().validate(etree.fromstring(xml))


@pytest.mark.parametrize("variant", [
    {},
    {"status": "Exercise", "scope": "Private", "addresses": ["school-officers", "ops desk"]},
    {"msg_type": "Update", "references": [{"sender": "emergency@example.invalid", "identifier": "A-1",
                                           "sent": "2026-11-29T10:00:00+08:00"}]},
    {"missing_child": {"last_seen_at": "2026-11-29T09:40:00+08:00", "last_seen": {"lat": 31.2, "lon": 121.5},
                       "age": 7, "description": "红色外套，蓝色书包"}, "categories": ["Rescue"]},
])
def test_own_output_validates_and_reimports_equal(variant):
    original = alert(**variant)
    xml = to_cap(original)
    assert _valid(xml), cap_schema().error_log
    assert from_cap(xml) == original


def test_every_alert_the_system_sends_exports_as_valid_cap():
    requests = [AlertRequested.model_validate(VALID[ev.AlertRequestedEvent])]
    requests += [AlertRequested(alert_id=f"x:{kind.value}", kind=kind, priority="urgent", exercise=i % 2 == 0,
                                audience={"kind": "school_list", "school_ids": ["SCH-1", "SCH-2"]},
                                params={"school": "SCH-1"}, source_event_id="e1", reason="test")
                 for i, kind in enumerate(AlertKind)]
    for request in requests:
        cap = request_as_cap(request, SENT)
        xml = to_cap(cap)
        assert _valid(xml), (request.kind, cap_schema().error_log)
        assert from_cap(xml) == cap
        assert (cap.status.value == "Exercise") is request.exercise
        if request.sensitive:
            assert b"SCH-1" not in xml.split(b"<area>")[0], "sensitive kinds carry no parameters"


def test_reads_a_foreign_alert_with_several_info_blocks_keeping_zh_cn():
    xml = to_cap(alert(language="en-US", event="Rainstorm")).replace(
        b"<info>", b"<info><language>zh-CN</language><category>Met</category><event>\xe6\x9a\xb4\xe9\x9b\xa8</event>"
                   b"<urgency>Immediate</urgency><severity>Extreme</severity><certainty>Observed</certainty></info><info>", 1)
    assert _valid(xml)
    assert from_cap(xml).event == "暴雨"




@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_xml_is_refused_clearly(name):
    with pytest.raises(CapRejected) as info:
        from_cap(HOSTILE[name])
    assert info.value.errors[0].field == "(body)" and "not accepted" in info.value.errors[0].reason


def test_oversized_body_is_refused_before_parsing():
    huge = b"<alert>" + b"x" * (50 * 1024 * 1024) + b"</alert>"
    with pytest.raises(CapRejected, match="larger than the 1048576-byte limit"):
        from_cap(huge)


@pytest.mark.parametrize("xml, words", [
    (b"<alert", "not well-formed"),
    (b"<alert xmlns='urn:example'/>", "root element must be alert"),
    (to_cap(alert()).replace(b"<status>Actual</status>", b"<status>Real</status>"), "status"),
    (to_cap(alert()).replace(b"<urgency>Immediate</urgency>", b""), "urgency"),
])
def test_invalid_cap_names_what_is_wrong(xml, words):
    with pytest.raises(CapRejected) as info:
        from_cap(xml)
    assert words in str(info.value)
