"""Every worker's group consumer gets its partitions at once on the real broker: fresh consumers on freshly created
topics, as a worker starting right after `childsafe topics apply` (a second member joining is exercised by the
two-dispatcher tests and the fault suite). kafka-python 3.0.12 could keep an empty assignment from a join made before
its metadata arrived: a CI run's dispatcher held no partition for 180 s and the alert reached no one
(consumers/kafka_io.make_consumer)."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from consumers.kafka_io import make_consumer

pytestmark = pytest.mark.integration

ROUNDS = 10  # without the fix about half the rounds leave a consumer unassigned
TOPICS_PER_ROUND = 30  # a namespace's worth: the broker's metadata for the round is not instant
GROUPS = 3


def poll_until_assigned(consumers, partitions: int, timeout: float) -> None:
    """Poll every consumer in turn (one thread, like the SMS workers) until each holds ``partitions``."""
    started = time.monotonic()
    while (any(len(c.assignment()) != partitions for c in consumers)
           and time.monotonic() - started < timeout):
        for consumer in consumers:
            consumer.poll(timeout_ms=50)


def test_fresh_consumers_are_assigned_their_partitions_within_seconds(kafka_bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="test-assignment")
    unassigned: list[str] = []
    try:
        for round_ in range(ROUNDS):
            prefix = f"asg{uuid.uuid4().hex[:8]}"
            names = [f"{prefix}.t{n}" for n in range(TOPICS_PER_ROUND)]
            admin.create_topics([NewTopic(name, 2, 1) for name in names], timeout_ms=30_000)
            consumers = [make_consumer(kafka_bootstrap, name, f"{name}.group") for name in names[-GROUPS:]]
            try:
                poll_until_assigned(consumers, 2, timeout=15)
                unassigned += [f"round {round_}: {c.subscription()} holds {len(c.assignment())} of 2"
                               for c in consumers if len(c.assignment()) != 2]
            finally:
                for consumer in consumers:
                    consumer.close()
    finally:
        admin.close()
    assert not unassigned, unassigned
