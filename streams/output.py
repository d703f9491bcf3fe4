"""`Output`: one record an agent, the intake or a timer writes (streams/writer.py sends it, acks=all)."""

from __future__ import annotations

from dataclasses import dataclass

from contracts.topics import TopicSpec


@dataclass(frozen=True)
class Output:
    """One record to write: to a catalogue topic, or (str) to an internal topic such as a changelog."""

    topic: TopicSpec | str
    key: bytes
    value: bytes
    partition: int | None = None
    timestamp_ms: int | None = None  # the record's Kafka timestamp (the intake stamps its receive time)
