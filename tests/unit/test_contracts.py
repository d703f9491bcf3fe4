"""Every contract: a valid example passes, and each invalid one is refused naming the field at fault."""

from __future__ import annotations

import copy
import json

import pytest

from contracts import events as ev
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.schemas import SCHEMA_DIR, render
from contracts.topics import CATALOGUE
from tests.contract_samples import VALID
from tests.factories import envelope, incident

# (event type, dotted path to change, new value or DELETE, field the error must name)
DELETE = object()
INVALID = [
    (ev.IncidentReportedEvent, "school_id", DELETE, "data.school_id"),
    (ev.IncidentReportedEvent, "category", "earthquake_drill", "data.category"),
    (ev.IncidentReportedEvent, "children.0.age", 18, "data.children.0.age"),
    (ev.IncidentReportedEvent, "mandatory_situations", [10], "data.mandatory_situations.0"),
    (ev.IncidentReportedEvent, "mandatory_situations", [4, 4], "data.mandatory_situations"),
    (ev.IncidentReportedEvent, "occurred_at", "2026-11-29T10:20:00", "data.occurred_at"),
    (ev.IncidentReportedEvent, "reporter.phone", "12345", "data.reporter.phone"),
    (ev.IncidentReportedEvent, "child_name", "测试儿童", "data.child_name"),
    (ev.RecallPublishedEvent, "barcode", "6901234567890", "data.barcode"),
    (ev.RecallPublishedEvent, "risk_level", "catastrophic", "data.risk_level"),
    (ev.RecallPublishedEvent, "production_from", "2026-12-01", "data"),
    (ev.SafetyReportFiledEvent, "body.kind", "audit", "data.body"),
    (ev.SafetyReportFiledEvent, "body.items", [], "data.body.inspection.items"),
    (ev.EmergencyAlertIssuedEvent, "status", "Real", "data.status"),
    (ev.EmergencyAlertIssuedEvent, "msg_type", "Cancel", "data"),
    (ev.EmergencyAlertIssuedEvent, "scope", "Private", "data"),
    (ev.OpenCaseCommand, "agencies", [], "data.agencies"),
    (ev.OpenCaseCommand, "risk", "medium", "data.risk"),
    (ev.AlertRequestedEvent, "audience.kind", "everyone", "data.audience"),
    (ev.AlertRequestedEvent, "validity_seconds", 36001, "data.validity_seconds"),
    (ev.SmsJobEvent, "to", "+8610000000000", "data.to"),
    (ev.SmsJobEvent, "segments", 0, "data.segments"),
    (ev.SmsStatusReportedEvent, "status", "lost", "data.status"),
    (ev.AuditRecordedEvent, "at", DELETE, "data.at"),
    (ev.DeadLetteredEvent, "reason", "", "data.reason"),
    (ev.ProductHoldingsEvent, "products.0.barcode", "6901234567890", "data.products.0.barcode"),
    (ev.ProductHoldingsEvent, "holder_kind", "shop", "data.holder_kind"),
    (ev.SchoolLocatedEvent, "lat", 91, "data.lat"),
    (ev.AlertCancelledEvent, "alert_id", "", "data.alert_id"),
]


def _event(event_type: type, data: dict) -> bytes:
    return json.dumps(envelope(data, type=event_type.TYPE), ensure_ascii=False).encode()


def _set(data: dict, path: str, value) -> dict:
    data = copy.deepcopy(data)
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if value is DELETE:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


@pytest.mark.parametrize("event_type", list(VALID), ids=lambda t: t.__name__)
def test_valid_example_round_trips(event_type):
    parsed = decode(_event(event_type, VALID[event_type]), event_type)
    assert type(parsed) is event_type
    assert decode(parsed.to_bytes(), event_type) == parsed


@pytest.mark.parametrize("event_type,path,value,field", INVALID,
                         ids=[f"{t.__name__}-{p}" for t, p, _, _ in INVALID])
def test_invalid_example_names_the_field(event_type, path, value, field):
    with pytest.raises(ContractError) as info:
        decode(_event(event_type, _set(VALID[event_type], path, value)), event_type)
    fields = [e.field for e in info.value.errors]
    assert field in fields, fields


def test_every_event_type_has_examples():
    assert set(VALID) == set(ev.ALL_EVENTS)
    assert {t for t, *_ in INVALID} == set(ev.ALL_EVENTS)


@pytest.mark.parametrize("raw,field,words", [
    (b"{not json", "(body)", "not valid JSON"),
    (b"\xff\xfe\x00", "(body)", "not valid JSON"),
    (b"[1, 2]", "(body)", "JSON object"),
])
def test_malformed_bytes_are_refused_clearly(raw, field, words):
    with pytest.raises(ContractError) as info:
        decode(raw, ev.IncidentReportedEvent)
    assert info.value.errors[0].field == field and words in info.value.errors[0].reason


def test_unknown_schema_version_and_type_are_told_apart():
    base = envelope(incident())
    with pytest.raises(ContractError, match="unsupported schema version"):
        decode(json.dumps({**base, "type": "cn.childsafe.incident.reported.v2"}), CATALOGUE[0])
    with pytest.raises(ContractError, match="unknown event type"):
        decode(json.dumps({**base, "type": "cn.childsafe.recall.published.v1"}), CATALOGUE[0])
    with pytest.raises(ContractError, match="specversion"):
        decode(json.dumps({**base, "specversion": "0.3"}), CATALOGUE[0])


def test_exported_json_schemas_match_the_models():
    """Run `childsafe contracts export` after changing a contract; this fails until you do."""
    rendered = render()
    on_disk = {p.name: p.read_text() for p in SCHEMA_DIR.glob("*.json")}
    assert set(on_disk) == set(rendered), "schema files added or removed: run `childsafe contracts export`"
    stale = [name for name, text in rendered.items() if on_disk[name] != text]
    assert not stale, f"stale schemas {stale}: run `childsafe contracts export`"


def test_catalogue_covers_every_event_once():
    carried = [e for spec in CATALOGUE for e in spec.events]
    assert sorted(e.TYPE for e in carried) == sorted(e.TYPE for e in ev.ALL_EVENTS)
    assert len({spec.suffix for spec in CATALOGUE}) == len(CATALOGUE)
    assert max(CATALOGUE, key=lambda s: s.partitions).suffix == "sms.jobs.v1"
