"""Dead letters keep the original bytes and origin; the limit stops a worker that rejects almost everything."""

from __future__ import annotations

import base64
from datetime import datetime, timezone

import pytest

from contracts.codec import decode
from contracts.errors import FieldError
from contracts.events import DeadLetteredEvent
from streams.deadletter import DeadLetterLimit, DeadLetterLimitExceeded, dead_letter

NOW = datetime(2026, 11, 29, tzinfo=timezone.utc)


def test_dead_letter_is_byte_exact_with_origin_and_reason():
    raw = b"\xff\x00 not json \xe4\xb8\xad"
    out = dead_letter(topic="childsafe.incidents.reported.v1", partition=3, offset=41, key=b"SCH-1", value=raw,
                      errors=[FieldError("(body)", "not valid JSON")], rejected_by="streams.triage", now=NOW)
    record = decode(out.value, DeadLetteredEvent).data
    assert base64.b64decode(record.value_b64) == raw
    assert base64.b64decode(record.key_b64) == b"SCH-1"
    assert (record.source_topic, record.source_partition, record.source_offset) == (
        "childsafe.incidents.reported.v1", 3, 41)
    assert record.errors[0].field == "(body)" and "not valid JSON" in record.reason


def test_limit_allows_occasional_rejects():
    limit = DeadLetterLimit(ratio=0.5, window=10)
    for i in range(100):
        limit.record(rejected=i % 3 == 0)


def test_limit_trips_when_most_recent_messages_are_rejected():
    limit = DeadLetterLimit(ratio=0.5, window=10)
    for _ in range(10):
        limit.record(False)
    with pytest.raises(DeadLetterLimitExceeded, match="of the last 10"):
        for _ in range(10):
            limit.record(True)
