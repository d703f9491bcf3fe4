"""Made-up organisations and reports for the case workflow tests (every name and number is fictional).

Phone numbers are from the UK Ofcom drama landline range (+442079460000-0999), reserved for fiction.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy.orm import Session

from consumers.store.core import Agency, School
from contracts.cases import CaseRisk, OpenCase
from contracts.events import OpenCaseCommand

DISTRICT = "310115"
OTHER_DISTRICT = "310104"
SCHOOL = "sch-test-001"
OTHER_SCHOOL = "sch-test-002"
REPORTER_NAME = "测试老师甲 Test Reporter 0001"
REPORTER_PHONE = "+442079460123"
SUMMARY = "TEST-ONLY summary: fictional incident text that must stay inside the case store"


def seed_organisations(session: Session) -> None:
    session.add_all([
        Agency(id="ps-city-3101", kind="public_security", district_code="310100", name="Test City Police HQ"),
        Agency(id="edu-city-3101", kind="education", district_code="310100", name="Test City Education Commission"),
    ])
    session.flush()
    for district in (DISTRICT, OTHER_DISTRICT):
        session.add_all([
            Agency(id=f"ps-{district}", kind="public_security", district_code=district,
                   name=f"Test District {district} Police", supervisor_id="ps-city-3101"),
            Agency(id=f"edu-{district}", kind="education", district_code=district,
                   name=f"Test District {district} Education Bureau", supervisor_id="edu-city-3101"),
            Agency(id=f"ca-{district}", kind="civil_affairs", district_code=district,
                   name=f"Test District {district} Civil Affairs"),
        ])
    session.add_all([
        Agency(id=f"health-{DISTRICT}", kind="health", district_code=DISTRICT, name="Test District Health Commission"),
        Agency(id=f"wf-{DISTRICT}", kind="womens_federation", district_code=DISTRICT, name="Test Women's Federation"),
        School(id=SCHOOL, name="测试第一小学 Test Primary School 1", district_code=DISTRICT),
        School(id=OTHER_SCHOOL, name="测试第二小学 Test Primary School 2", district_code=OTHER_DISTRICT),
    ])


def open_case(n: int = 1, *, category: str = "abuse_harm", risk: str = "high", school: str = SCHOOL,
              district: str = DISTRICT, reported_at: datetime | None = None) -> OpenCase:
    reported = reported_at or datetime(2026, 11, 29, 1, 0, tzinfo=timezone.utc)
    return OpenCase(
        case_id=f"case-{n:06d}", report_id=f"report-{n:06d}", school_id=school, district_code=district,
        category=category, severity="serious", risk=CaseRisk(risk), situations=[4], triggers=["situation_4"],
        agencies=["public_security"], occurred_at=reported - timedelta(minutes=30), reported_at=reported,
        summary=SUMMARY,
        reporter={"role": "teacher", "unit_id": school, "name": REPORTER_NAME, "phone": REPORTER_PHONE})


def command_bytes(cmd: OpenCase, event_id: str | None = None) -> bytes:
    return OpenCaseCommand.new(cmd, source="/tests/triage", subject=cmd.case_id, id=event_id).to_bytes()
