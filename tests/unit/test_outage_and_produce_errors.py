"""Outages are waited out (bounded, logged, metered, the same work again); producer errors are told apart;
oversized dead letters are cut with a digest; intake topics carry the intake limit; replication follows the
cluster's size."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import threading
from datetime import UTC, datetime

import aiokafka.errors as aio
import kafka.errors as kpy
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError, OperationalError

from consumers.kafka_io import ProduceFailed
from consumers.metrics import OUTAGE_RETRIES
from consumers.outage import Stopped, dependency_of
from contracts.deadletter import DEAD_LETTER_VALUE_LIMIT, DeadLettered
from contracts.errors import FieldError
from contracts.produce_errors import is_non_retryable_produce_error, is_retryable_kafka_error
from contracts.topics import CATALOGUE, INTAKE, INTAKE_BODY_LIMIT, replication_for
from ops.settings import Settings
from tests.fakes import guard

NOW = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)


def db_down() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("connection refused"))


@pytest.mark.parametrize("exc", [kpy.MessageSizeTooLargeError(), aio.MessageSizeTooLargeError(),
                                 kpy.RecordListTooLargeError(), aio.TopicAuthorizationFailedError(),
                                 kpy.InvalidTopicError()])
def test_the_broker_refusing_a_record_is_not_retryable(exc):
    assert is_non_retryable_produce_error(exc) and not is_retryable_kafka_error(exc)


@pytest.mark.parametrize("exc", [kpy.KafkaTimeoutError(), aio.KafkaTimeoutError(), aio.NoBrokersAvailable(),
                                 aio.KafkaConnectionError(), kpy.NotLeaderForPartitionError(),
                                 aio.NotEnoughReplicasError(), kpy.RequestTimedOutError()])
def test_an_unavailable_cluster_is_retryable(exc):
    assert is_retryable_kafka_error(exc) and not is_non_retryable_produce_error(exc)


def test_a_wrapped_error_is_judged_by_its_cause():
    try:
        raise ProduceFailed("1 job(s) not acknowledged") from kpy.MessageSizeTooLargeError()
    except ProduceFailed as exc:
        assert is_non_retryable_produce_error(exc) and dependency_of(exc) is None
    try:
        raise ProduceFailed("1 job(s) not acknowledged") from kpy.KafkaTimeoutError()
    except ProduceFailed as exc:
        assert dependency_of(exc) == "kafka"


def test_bugs_and_rebalances_are_not_outages():
    assert dependency_of(ValueError("bug")) is None
    assert dependency_of(IntegrityError("INSERT", {}, Exception("duplicate"))) is None
    assert dependency_of(kpy.CommitFailedError()) is None
    assert dependency_of(db_down()) == "database"


def test_an_outage_is_waited_out_with_capped_backoff_logged_and_counted(caplog):
    waits, calls = [], []

    def work():
        calls.append(1)
        if len(calls) <= 6:
            raise db_down()
        return "stored"

    before = OUTAGE_RETRIES.labels("unit-worker", "database")._value.get()
    waiting = guard("unit-worker", base_s=0.5, cap_s=3.0, sleep=waits.append)
    with caplog.at_level(logging.WARNING, logger="childsafe.outage"):
        assert waiting.run(work, "storing a batch") == "stored"
    assert len(calls) == 7, "the same work, again, until it succeeded"
    assert all(w <= 3.0 * 1.2 for w in waits) and waits[0] < waits[2], waits
    assert OUTAGE_RETRIES.labels("unit-worker", "database")._value.get() - before == 6
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) == 6
    assert all("connection refused" not in r.getMessage() or "SELECT" not in r.getMessage() for r in caplog.records)


def test_a_bug_propagates_at_once_and_a_stop_ends_the_wait():
    buggy = guard("unit-worker", sleep=lambda s: None)
    with pytest.raises(ZeroDivisionError):
        buggy.run(lambda: 1 / 0, "a bug")
    stop = threading.Event()
    stopping = guard("unit-worker", stop=stop, sleep=lambda s: stop.set())
    with pytest.raises(Stopped):
        stopping.run(lambda: (_ for _ in ()).throw(db_down()), "storing")


@settings(max_examples=40, deadline=None)
@given(st.one_of(st.binary(max_size=2048), st.builds(lambda n, b: b * n, st.integers(0, 900_000),
                                                     st.sampled_from([b"x", "\u200b\u202e\U0001F600\n".encode(),
                                                                      "全角".encode()]))))
def test_a_dead_letter_keeps_everything_up_to_the_limit_and_cuts_beyond_it_with_a_digest(value):
    letter = DeadLettered.of(topic="t", partition=0, offset=1, key=b"k" * 5000, value=value,
                             errors=[FieldError("data.description", "too long", "x" * 10_000)],
                             rejected_by="unit", rejected_at=NOW)
    assert letter.value_bytes == len(value)
    assert letter.value_sha256 == hashlib.sha256(value).hexdigest()
    if letter.value_b64 or not value:  # unsealed (no key configured): the kept bytes are the first ones
        assert base64.b64decode(letter.value_b64) == value[:DEAD_LETTER_VALUE_LIMIT]
    assert letter.value_truncated == (len(value) > DEAD_LETTER_VALUE_LIMIT)
    assert len(letter.model_dump_json()) < 400 * 1024, "fits far below the broker's 1 MiB record limit"
    assert letter.errors[0].got is None, "the offending value is not kept in the reason"


def test_intake_topics_take_at_most_the_intake_body_plus_envelope_room_and_nothing_else_is_limited():
    for spec in CATALOGUE:
        limit = spec.config.get("max.message.bytes")
        if spec in INTAKE:
            assert INTAKE_BODY_LIMIT < int(limit) <= INTAKE_BODY_LIMIT + 32 * 1024
        else:
            assert limit is None
    assert Settings().max_body_bytes == INTAKE_BODY_LIMIT
    with pytest.raises(ValueError, match="max_body_bytes"):
        Settings(max_body_bytes=INTAKE_BODY_LIMIT + 1)


@pytest.mark.parametrize("brokers,expected", [(1, (1, 1)), (2, (2, 1)), (3, (3, 2)), (5, (3, 2))])
def test_replication_and_min_insync_follow_the_cluster_size(brokers, expected):
    assert replication_for(brokers) == expected
    config = CATALOGUE[0].config_for(brokers)
    assert config["min.insync.replicas"] == str(expected[1])
    assert config["unclean.leader.election.enable"] == "false"


class FlakyWriter:
    """The writer port: fails with the given errors first, then takes the outputs; counts the calls."""

    def __init__(self, *failures):
        self.failures, self.calls, self.written = list(failures), [], []

    async def write(self, outputs):
        self.calls.append(list(outputs))
        if self.failures:
            raise self.failures.pop(0)
        self.written.extend(outputs)


async def test_a_broken_idempotent_producer_is_replaced_and_the_same_outputs_sent_again():
    from streams.output import Output
    from streams.writer import write_durably

    writer = FlakyWriter(aio.OutOfOrderSequenceNumber(), aio.KafkaConnectionError())
    outputs = [Output("t", b"k", b"v")]
    await write_durably(writer, outputs, max_delay_s=0.01)
    assert writer.written == outputs and writer.calls == [outputs] * 3


async def test_producers_that_keep_breaking_stop_the_worker_before_its_input_is_acked():
    from streams.output import Output
    from streams.writer import ProducerBroken, ProducerStuck, write_durably

    stopped = []
    writer = FlakyWriter(*[aio.OutOfOrderSequenceNumber(), ProducerStuck("no ack")] * 3)
    with pytest.raises(ProducerBroken):
        await write_durably(writer, [Output("t", b"k", b"v")], max_delay_s=0.01, max_new_producers=4,
                            on_broken=stopped.append)
    assert len(writer.calls) == 5 and writer.written == [] and len(stopped) == 1
    assert "5 new Kafka producers in a row" in str(stopped[0])
    # a retryable outage in between resets the count: the worker rides that out
    writer = FlakyWriter(*[aio.OutOfOrderSequenceNumber(), aio.KafkaConnectionError()] * 4)
    await write_durably(writer, [Output("t", b"k", b"v")], max_delay_s=0.01, max_new_producers=1,
                        on_broken=stopped.append)
    assert len(stopped) == 1 and len(writer.written) == 1


class Crash(BaseException):
    """The process dying between two writes (SIGKILL)."""


async def test_table_state_is_written_only_after_the_effects_it_stands_for():
    from streams.output import Output
    from streams.writer import write_durably

    effect, state = Output("ns.audit.v1", b"r1", b"routed"), Output("ns-streams-triage-seen-changelog", b"r1", b"[0]")

    class DiesOnSecondWrite(FlakyWriter):
        async def write(self, outputs):
            if self.calls:
                raise Crash()
            await super().write(outputs)

    writer = DiesOnSecondWrite()
    with pytest.raises(Crash):
        await write_durably(writer, [state, effect], max_delay_s=0.01)
    assert writer.written == [effect], "the effect is durable, the 'done' mark is not: a restart redoes r1"
    writer = FlakyWriter()
    await write_durably(writer, [state, effect, state], max_delay_s=0.01)
    assert writer.calls == [[effect], [state, state]]


async def test_a_record_the_broker_refuses_for_its_size_is_not_retried_forever():
    from streams.output import Output
    from streams.writer import OutputRefused, write_durably

    writer = FlakyWriter(aio.MessageSizeTooLargeError())
    with pytest.raises(OutputRefused, match="MessageSizeTooLarge"):
        await write_durably(writer, [Output("t", b"k", b"v" * 10)], max_delay_s=0.01)


class NeverAcks:
    """An aiokafka-shaped producer whose sends are never acknowledged and whose stop() (a flush) never ends,
    as an idempotent producer retrying a batch forever behaves."""

    made = 0

    def __init__(self):
        NeverAcks.made += 1
        self.started = self.stop_called = False

    async def start(self):
        self.started = True

    async def send(self, topic, value, **kw):
        return asyncio.get_running_loop().create_future()

    async def stop(self):
        self.stop_called = True
        await asyncio.Event().wait()


async def test_a_producer_that_never_acknowledges_is_replaced_without_waiting_for_its_flush():
    import time

    from streams.metrics import PRODUCERS_REPLACED
    from streams.output import Output
    from streams.writer import KafkaWriter, ProducerBroken, ProducerStuck, write_durably

    NeverAcks.made = 0
    writer = KafkaWriter("127.0.0.1:9", "ns", "test", ack_timeout_s=0.2, close_timeout_s=0.1,
                         producer_factory=NeverAcks)
    before = PRODUCERS_REPLACED._value.get()
    started = time.monotonic()
    with pytest.raises(ProducerStuck, match="1 of 1 records not acknowledged within 0.2s"):
        await writer.write([Output("t", b"k", b"v")])
    assert time.monotonic() - started < 2 and writer.replaced == 1 and PRODUCERS_REPLACED._value.get() == before + 1
    stopped = []
    with pytest.raises(ProducerBroken):
        await write_durably(writer, [Output("t", b"k", b"v")], max_delay_s=0.01, max_new_producers=2,
                            on_broken=stopped.append)
    assert len(stopped) == 1 and writer.replaced == 4 and NeverAcks.made == 4


async def test_a_replacement_by_one_write_is_not_undone_by_another_that_failed_on_the_old_producer():
    from streams.output import Output
    from streams.writer import KafkaWriter

    class Broken(NeverAcks):
        async def send(self, topic, value, **kw):
            raise aio.OutOfOrderSequenceNumber()

        async def stop(self):
            self.stop_called = True

    writer = KafkaWriter("127.0.0.1:9", "ns", "test", producer_factory=Broken)
    old = await writer.producer()
    with pytest.raises(aio.OutOfOrderSequenceNumber):
        await writer.write([Output("t", b"k", b"v")])
    new = await writer.producer()
    await writer._replace(old, aio.OutOfOrderSequenceNumber())  # a second write that failed on the old one
    assert writer._producer is new and writer.replaced == 1 and old.stop_called and not new.stop_called
