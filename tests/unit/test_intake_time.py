"""Clocks start at intake time: a client's CloudEvent `time` (say 2099) is recorded but never drives a deadline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from consumers.cases.models import CaseDeadline, MandatoryReportCase
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.events import IncidentReportedEvent
from streams.app import create_app
from streams.config import StreamsConfig
from streams.idempotency import MemoryIdempotencyLedger
from streams.triage import route
from tests.cases_fixtures import CaseWorld, open_case
from tests.databases import migrated_template, sqlite_copy
from tests.factories import envelope, incident
from tests.intake_door import RecordingWriter
from tests.wait_for import wait_for_async

FUTURE = datetime(2099, 1, 1, tzinfo=UTC)
NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
MANDATORY = incident(category="sexual_assault", children=[{"age": 9, "sex": "female"}])


def _report(at: datetime) -> IncidentReportedEvent:
    raw = envelope(MANDATORY, id="r-time")
    raw["time"] = at.isoformat()
    return decode(json.dumps(raw).encode(), IncidentReportedEvent)


def _open_case(outputs) -> object:
    [cmd] = [o for o in outputs if getattr(o.topic, "suffix", "") == "cases.commands.v1"]
    return decode(cmd.value, cmd.topic).data


def test_route_starts_the_case_at_the_receive_time_not_the_clients():
    received = NOW - timedelta(minutes=2)
    assert _open_case(route(_report(FUTURE), NOW, received_at=received)).reported_at == received
    assert _open_case(route(_report(FUTURE), NOW)).reported_at == NOW, "without a receive time: never after now"


async def test_the_triage_agent_takes_the_kafka_record_time():
    writer = RecordingWriter()
    app = create_app(StreamsConfig(bootstrap="127.0.0.1:1", namespace="unit", batch_within_s=0.01,
                                   intake_insecure_local=True),
                     clock=FakeClock(NOW), writer=writer, ledger=MemoryIdempotencyLedger()).app
    app.finalize()
    record_time = NOW - timedelta(minutes=5)
    async with app.agents["triage"].test_context() as agent:
        event = await agent.put(_report(FUTURE).to_bytes(), key=b"SCH-310115-0001",
                                timestamp=record_time.timestamp())
        await wait_for_async(lambda: event.message.acked, timeout=10)  # acked only once its outputs are written
    assert _open_case(writer.written).reported_at == record_time


def test_a_case_command_from_the_future_gets_deadlines_from_now(tmp_path):
    url = sqlite_copy(migrated_template(), tmp_path / "time.db")
    world = CaseWorld(url)
    try:
        world.open(open_case(1, reported_at=FUTURE))
        with world.transaction() as s:
            case = s.execute(select(MandatoryReportCase)).scalar_one()
            dues = s.execute(select(CaseDeadline.due_at)).scalars().all()
        now = world.clock.now()
        assert case.reported_at == now
        assert dues and all(now < due <= now + timedelta(days=11) for due in dues), dues
    finally:
        world.close()
