"""One valid payload per event type (made-up data): the contract tests start from these and break them."""

from __future__ import annotations

from contracts import events as ev
from tests.factories import incident

AT = "2026-11-29T10:20:00+08:00"
GTIN = "6901234567892"  # check digit valid

VALID: dict[type, dict] = {
    ev.IncidentReportedEvent: incident(),
    ev.RecallPublishedEvent: {
        "recall_number": "SAMR-2026-0042", "published_on": "2026-11-20", "producer": "示例玩具有限公司",
        "product_name": "儿童滑板车", "product_kind": "toy", "brand": "示例牌", "model": "HB-200", "batch": "20260601",
        "barcode": GTIN, "production_from": "2026-05-01", "production_to": "2026-06-30", "hazard_type": "机械伤害", "hazard_description": "折叠机构可能意外松脱，导致儿童摔倒。",
        "remedy": "停止使用，联系经销商免费更换折叠组件。", "risk_level": "high", "sales_regions": ["310115"]},
    ev.SafetyReportFiledEvent: {
        "school_id": "SCH-310115-0001", "district_code": "310115", "filed_at": AT, "inspector_unit": "EDU-310115",
        "body": {"kind": "inspection", "items": [{"area": "fire_safety", "item": "灭火器在有效期内",
                                                  "result": "fail", "critical": True}]}},
    ev.EmergencyAlertIssuedEvent: {
        "identifier": "310115000000001_20261129103000_1", "sender": "emergency@example.invalid", "sent": AT,
        "status": "Exercise", "msg_type": "Alert", "scope": "Public", "categories": ["Met"], "event": "暴雨",
        "urgency": "Expected", "severity": "Severe", "certainty": "Likely",
        "areas": [{"area_desc": "示例区", "circles": [{"center": {"lat": 31.2, "lon": 121.5}, "radius_km": 5}]}]},
    ev.OpenCaseCommand: {
        "case_id": "CASE-0001", "report_id": "r-0001", "school_id": "SCH-310115-0001", "district_code": "310115",
        "category": "abuse_harm", "severity": "serious", "risk": "high", "situations": [4],
        "triggers": ["ticked:situation_4"], "agencies": ["public_security"], "occurred_at": AT, "reported_at": AT,
        "summary": "多处淤青", "reporter": {"role": "teacher", "unit_id": "SCH-310115-0001"}},
    ev.AlertRequestedEvent: {
        "alert_id": "r-0001:school_guardians:0", "kind": "incident_emergency", "priority": "emergency",
        "audience": {"kind": "school_guardians", "school_id": "SCH-310115-0001"}, "source_event_id": "r-0001",
        "reason": "school emergency: fire"},
    ev.SmsJobEvent: {
        "dedup_key": "a1:g1", "alert_id": "a1", "recipient_id": "g1", "to": "+12025550123", "body": "【演练】测试",
        "priority": "emergency", "segments": 1},
    ev.SmsStatusReportedEvent: {
        "message_sid": "SM" + "0" * 32, "status": "delivered", "received_at": AT},
    ev.AuditRecordedEvent: {
        "actor": "streams.triage", "action": "triage_incident", "subject": "r-0001", "outcome": "recorded", "at": AT},
    ev.DeadLetteredEvent: {
        "source_topic": "childsafe.incidents.reported.v1", "source_partition": 0, "source_offset": 7,
        "value_b64": "bm90IGpzb24=", "reason": "(body): not valid JSON", "rejected_by": "streams.triage",
        "rejected_at": AT},
    ev.ProductHoldingsEvent: {
        "holder_kind": "guardian", "holder_id": "G-0001", "updated_at": AT,
        "products": [{"registration_id": "REG-1", "product_name": "儿童滑板车", "brand": "示例牌", "model": "HB-200",
                      "batch": "20260601", "barcode": GTIN, "product_kind": "toy"}]},
    ev.SchoolLocatedEvent: {"school_id": "SCH-310115-0001", "district_code": "310115", "lat": 31.2, "lon": 121.5},
    ev.AlertCancelledEvent: {"alert_id": "mc:abc:r0:0", "reason": "child found", "cancelled_at": AT,
                             "source_event_id": "cap-1"},
}
