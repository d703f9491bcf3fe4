"""Made-up organisations and reports for the case workflow tests (every name and number is fictional).

Phone numbers are from the UK Ofcom drama landline range (+442079460000-0999), reserved for fiction.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from consumers.store.core import Agency, School
from contracts.cases import CaseRisk, OpenCase
from contracts.events import OpenCaseCommand
from tests.fakes import FakeProducer

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
    reported = reported_at or datetime(2026, 11, 29, 1, 0, tzinfo=UTC)
    return OpenCase(
        case_id=f"case-{n:06d}", report_id=f"report-{n:06d}", school_id=school, district_code=district,
        category=category, severity="serious", risk=CaseRisk(risk), situations=[4], triggers=["situation_4"],
        agencies=["public_security"], occurred_at=reported - timedelta(minutes=30), reported_at=reported,
        summary=SUMMARY,
        reporter={"role": "teacher", "unit_id": school, "name": REPORTER_NAME, "phone": REPORTER_PHONE})


def command_bytes(cmd: OpenCase, event_id: str | None = None) -> bytes:
    return OpenCaseCommand.new(cmd, source="/tests/triage", subject=cmd.case_id, id=event_id).to_bytes()


class CaseWorld:
    """A migrated database with organisations, a fake clock, and the case services wired to them."""

    def __init__(self, url: str):
        from consumers.cases.actions import CaseDesk
        from consumers.cases.clocks import ClockPolicy
        from consumers.cases.escalation import EscalationRunner
        from consumers.cases.opening import CaseOpener, CaseTopics
        from consumers.cases.outbox import OutboxRelay
        from consumers.store.db import make_engine, session_factory, transaction
        from contracts.clock import FakeClock

        self.url = url
        self.engine = make_engine(url)
        self.factory = session_factory(self.engine)
        self.clock = FakeClock(datetime(2026, 11, 29, 1, 0, tzinfo=UTC))
        self.policy = ClockPolicy()
        self.topics = CaseTopics(alerts="t.alerts.requested.v1", deadletter="t.deadletter.v1")
        self.opener = CaseOpener(self.policy, self.topics)
        self.publisher = FakeProducer()
        self.relay = OutboxRelay(self.factory, self.publisher, self.clock, self.policy)
        self.runner = EscalationRunner(self.factory, self.clock, self.policy, self.topics.alerts)
        self.desk = CaseDesk(self.factory, self.clock)
        self.transaction = lambda: transaction(self.factory)
        with self.transaction() as s:
            seed_organisations(s)
        self._offset = 0

    def open(self, cmd: OpenCase, forward: bool = True) -> str:
        from consumers.cases.opening import Position

        self._offset += 1
        with self.transaction() as s:
            outcome = self.opener.handle(s, Position("t.cases.commands.v1", 0, self._offset, cmd.case_id.encode(),
                                                     command_bytes(cmd)), self.clock.now())
        if forward:
            self.relay.publish_pending()
        return outcome

    def token(self, role: str, unit: str) -> str:
        from consumers.cases.tokens import issue_token

        with self.transaction() as s:
            return issue_token(s, role, unit, self.clock.now(), label="test")[1]

    def alerts(self, kind: str | None = None) -> list:
        from contracts.codec import decode
        from contracts.events import AlertRequestedEvent

        out = [decode(v, AlertRequestedEvent).data for t, _, v in self.publisher.sent if t == self.topics.alerts]
        return [a for a in out if kind is None or a.kind == kind]

    def close(self) -> None:
        self.engine.dispose()
