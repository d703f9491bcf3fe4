"""Read a topic back from the beginning: for the demo's report and the integration tests."""

from __future__ import annotations

import time
from collections.abc import Callable

from kafka import KafkaConsumer, TopicPartition


def read_topic(bootstrap: str, topic: str, *, until: Callable[[list], bool] | None = None,
               timeout: float = 60.0, settle: float = 0.0) -> list:
    """All records of ``topic`` from the beginning; waits until ``until(records)`` holds (or timeout).
    ``settle`` keeps reading that many seconds longer, to catch records that should NOT appear."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        deadline = time.monotonic() + timeout
        while not parts and time.monotonic() < deadline:
            time.sleep(0.2)
            parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        satisfied_at = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if until is None or until(records):
                satisfied_at = satisfied_at or time.monotonic()
                if time.monotonic() - satisfied_at >= settle:
                    return records
        return records
    finally:
        consumer.close()
