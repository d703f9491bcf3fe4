"""Made-up but realistic test data: fictional schools, reporters and children (no names of real people)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

from contracts.events import SafetyReportFiledEvent
from contracts.safety import SafetyReportFiled

INCIDENT = {
    "school_id": "SCH-310115-0001",
    "district_code": "310115",
    "class_id": "3-2",
    "occurred_at": "2026-11-29T10:20:00+08:00",
    "location": "操场",
    "category": "fall",
    "severity": "minor",
    "description": "课间一名学生跌倒，膝盖擦伤。",
    "children": [{"age": 9, "sex": "male", "injured": True}],
    "child_in_danger_now": False,
    "mandatory_situations": [],
    "reporter": {"role": "school_safety_officer", "unit_id": "SCH-310115-0001", "confidential": True},
}


def incident(**changes) -> dict:
    data = copy.deepcopy(INCIDENT)
    data.update(changes)
    return data


def envelope(data: dict, *, id: str = "r-0001", type: str = "cn.childsafe.incident.reported.v1",
             subject: str | None = "SCH-310115-0001") -> dict:
    return {"specversion": "1.0", "id": id, "source": "/tests", "type": type,
            "time": datetime(2026, 11, 29, 2, 30, tzinfo=UTC).isoformat(), "subject": subject, "data": data}


def incident_bytes(id: str = "r-0001", **changes) -> bytes:
    return json.dumps(envelope(incident(**changes), id=id), ensure_ascii=False).encode()


def safety_report_bytes(clock, body: dict, school: str = "SCH-310115-0001", id: str = "sr-1") -> bytes:
    """A campus safety report filed now (by ``clock``), as the bytes an inspector's client sends."""
    data = SafetyReportFiled.model_validate({"school_id": school, "district_code": "310115", "filed_at": clock.now(),
                                            "inspector_unit": "EDU-310115", "body": body})
    return SafetyReportFiledEvent.new(data, source="/test", id=id).to_bytes()
