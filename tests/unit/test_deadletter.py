"""The one dead-letter policy (contracts/dlq.py): byte-exact records, ids that replay identically, one limit
arithmetic, and one counter, whichever worker rejects the message."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.dlq import DeadLetterLimit, DeadLetterLimitExceeded, DeadLetterWindow, dead_letter_event, dead_letter_id
from contracts.errors import FieldError
from contracts.events import DeadLetteredEvent
from streams.deadletter import dead_letter
from tests.fakes import FakeProducer, record

NOW = datetime(2026, 11, 29, tzinfo=UTC)
# any text a Kafka client can hand over: topic names arrive decoded from UTF-8, so never a lone surrogate
NASTY = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=0, max_size=300) | st.sampled_from(
    ["a\nb", "ｉｎｃｉｄｅｎｔｓ", "火灾🔥", "zero\u200bwidth", "\u202eRTL", "x" * 10_000, ""])


def test_dead_letter_is_byte_exact_with_origin_and_reason():
    raw = b"\xff\x00 not json \xe4\xb8\xad"
    out = dead_letter(topic="childsafe.incidents.reported.v1", partition=3, offset=41, key=b"SCH-1", value=raw,
                      errors=[FieldError("(body)", "not valid JSON")], rejected_by="streams.triage", now=NOW)
    record_ = decode(out.value, DeadLetteredEvent).data
    assert base64.b64decode(record_.value_b64) == raw
    assert base64.b64decode(record_.key_b64) == b"SCH-1"
    assert (record_.source_topic, record_.source_partition, record_.source_offset) == (
        "childsafe.incidents.reported.v1", 3, 41)
    assert record_.errors[0].field == "(body)" and "not valid JSON" in record_.reason


@given(topic=NASTY, partition=st.integers(-1, 2**31), offset=st.integers(-1, 2**62), value=st.binary(max_size=2000))
def test_a_replayed_message_gets_the_same_dead_letter_and_the_id_is_always_a_valid_event_id(topic, partition, offset,
                                                                                            value):
    first = dead_letter_event(topic=topic, partition=partition, offset=offset, key=None, value=value,
                              errors=[FieldError("data.x", "required")], rejected_by="sms-fanout", now=NOW)
    again = dead_letter_event(topic=topic, partition=partition, offset=offset, key=None, value=value,
                              errors=[FieldError("data.x", "required")], rejected_by="sms-fanout", now=NOW)
    assert first.id == again.id == dead_letter_id(topic, partition, offset)
    assert first.to_bytes() == again.to_bytes()
    assert decode(first.to_bytes(), DeadLetteredEvent).id == first.id
    assert dead_letter_id(topic, partition, offset + 1) != first.id
    assert dead_letter_id(topic + "x", partition, offset) != first.id


def test_the_limit_trips_only_when_more_than_the_ratio_of_a_full_window_was_rejected():
    filling = DeadLetterWindow(DeadLetterLimit(ratio=0.5, window=10), "w")
    filling.record_all([True] * 9)  # the window is not full yet: no verdict
    exact = DeadLetterWindow(DeadLetterLimit(ratio=0.5, window=10), "w")
    exact.record_all([True, False] * 5)  # exactly 50 %: not more than the ratio, keeps going
    exact.record(True)  # a rejected one leaves the window, a rejected one comes: still 5 of 10
    with pytest.raises(DeadLetterLimitExceeded, match="w: 6 of the last 10 messages"):
        exact.record(True)  # an accepted one leaves: 6 of 10


def test_the_limit_allows_occasional_rejects_forever():
    window = DeadLetterWindow(DeadLetterLimit(ratio=0.5, window=10), "w")
    window.record_all(i % 3 == 0 for i in range(10_000))


@pytest.mark.parametrize("ratio,window", [(0, 10), (1.5, 10), (0.5, 0)])
def test_a_limit_that_cannot_work_is_refused_naming_what_is_wrong(ratio, window):
    with pytest.raises(ValueError, match="ratio|window"):
        DeadLetterLimit(ratio, window)


def test_the_sms_workers_dead_letters_follow_the_policy_and_are_counted():
    from consumers.kafka_io import DeadLetters

    labels = {"topic": "sms.jobs.v1", "reason": "contract", "rejected_by": "sms-dispatch"}
    before = REGISTRY.get_sample_value("childsafe_deadletters_total", labels) or 0.0
    producer = FakeProducer()
    letters = DeadLetters(producer, "ns", "sms-dispatch", FakeClock(NOW), DeadLetterLimit(ratio=0.5, window=4))
    bad = record("ns.sms.jobs.v1", 2, 7, b"\xffjunk")
    letters.passed(2)
    letters.reject(bad, "not a valid SMS job", [FieldError("data.to", "required")])
    letters.reject(bad, "not a valid SMS job", [FieldError("data.to", "required")])  # a replay of the same record
    [(topic1, key1, first), (topic2, _, second)] = producer.sent
    assert topic1 == topic2 == "ns.deadletter.v1" and key1 == b"ns.sms.jobs.v1"
    assert first == second, "a replay yields the very same dead letter (same id, same bytes)"
    assert REGISTRY.get_sample_value("childsafe_deadletters_total", labels) == before + 2
    with pytest.raises(DeadLetterLimitExceeded, match="sms-dispatch: 3 of the last 4"):
        letters.reject(bad, "not a valid SMS job", [FieldError("data.to", "required")])
    assert len(producer.sent) == 2, "the dead letter that trips the limit is not written"
