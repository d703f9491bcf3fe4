"""The consumer's batch path against SQLite and PostgreSQL: duplicates in one batch, dead letters, replays."""

from __future__ import annotations

from sqlalchemy import func, select

from consumers.cases.audit import verify
from consumers.cases.consumer import CaseCommandConsumer
from consumers.cases.models import CaseAgency, MandatoryReportCase
from consumers.cases.opening import Position
from consumers.cases.tracking import OutboxMessage, ProcessedMessage
from contracts.dlq import DeadLetterLimit, DeadLetterWindow
from tests.cases_fixtures import CaseWorld, command_bytes, open_case
from tests.fakes import guard

TOPIC = "t.cases.commands.v1"


def _positions(payloads: list[bytes], start: int = 0) -> list[Position]:
    return [Position(TOPIC, 0, start + i, b"k", v) for i, v in enumerate(payloads)]


def test_one_batch_with_duplicates_junk_and_a_replay(db_url):
    world = CaseWorld(db_url)
    consumer = CaseCommandConsumer(None, world.opener, world.relay, world.factory, world.clock,
                                   DeadLetterWindow(DeadLetterLimit(), "case-consumer"),
                                   guard("case-consumer"))
    payloads = [command_bytes(open_case(i)) for i in range(1, 51)]
    payloads += [command_bytes(open_case(7), "again-7"), b"not json", command_bytes(open_case(7), "again-7b")]
    stolen = open_case(60).model_copy(update={"case_id": "case-000003"})  # another report claiming a used case id
    payloads.append(command_bytes(stolen))
    outcomes = consumer.store(_positions(payloads))
    assert outcomes.count("opened") == 50 and outcomes.count("duplicate") == 2
    assert outcomes.count("deadlettered") == 2
    assert consumer.store(_positions(payloads)) == ["replayed"] * len(payloads)
    assert world.relay.publish_pending() == 52  # 50 duty alerts + 2 dead letters
    with world.transaction() as s:
        assert s.execute(select(func.count()).select_from(MandatoryReportCase)).scalar_one() == 50
        assert s.execute(select(func.count()).select_from(ProcessedMessage)).scalar_one() == len(payloads)
        assert s.execute(select(func.count()).select_from(CaseAgency)).scalar_one() == 50 * 4
        assert set(s.execute(select(MandatoryReportCase.state)).scalars()) == {"forwarded"}
        assert s.execute(select(func.count()).select_from(OutboxMessage)
                         .where(OutboxMessage.purpose == "deadletter")).scalar_one() == 2
        verdict = verify(s)
        assert verdict.ok and verdict.checked == 100  # opened + forwarded, chained in one batch
    world.close()


class _Polled:
    """The Kafka consumer port of the case consumer: one poll's records, and what was committed."""

    def __init__(self, records):
        self.records, self.committed = records, []

    def poll(self, timeout_ms, max_records):
        records, self.records = self.records, []
        return {("t", 0): records} if records else {}

    def commit(self, offsets):
        self.committed.append(offsets)


def test_dead_letter_limit_stops_the_case_consumer_before_it_commits_and_counts_what_it_dead_lettered(db_url):
    import pytest
    from prometheus_client import REGISTRY

    from contracts.dlq import DeadLetterLimitExceeded

    labels = {"topic": "cases.commands.v1", "reason": "malformed", "rejected_by": "case-consumer"}
    before = REGISTRY.get_sample_value("childsafe_deadletters_total", labels) or 0.0
    world = CaseWorld(db_url)
    records = [type("R", (), dict(topic=TOPIC, partition=0, offset=i, key=b"k", value=b"junk"))() for i in range(20)]
    kafka = _Polled(records)
    consumer = CaseCommandConsumer(kafka, world.opener, world.relay, world.factory, world.clock,
                                   DeadLetterWindow(DeadLetterLimit(ratio=0.9, window=20), "case-consumer"),
                                   guard("case-consumer"))
    with pytest.raises(DeadLetterLimitExceeded, match="case-consumer: 20 of the last 20 messages"):
        consumer.poll_once()
    assert kafka.committed == [], "the offsets of a batch that tripped the limit are not committed"
    assert REGISTRY.get_sample_value("childsafe_deadletters_total", labels) == before + 20
    world.close()
