"""Every worker's group consumer gets its partitions at once on the real broker: fresh consumers on freshly created
topics (as a worker starting right after `childsafe topics apply`), then a second member joining each group (as a
second dispatcher). kafka-python 3.0.12 could keep an empty assignment from a join made before its metadata arrived:
a CI run's dispatcher held no partition for 180 s and the alert reached no one (consumers/kafka_io.make_consumer)."""

from __future__ import annotations

import time
import uuid

import pytest
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from consumers.kafka_io import make_consumer

pytestmark = pytest.mark.integration

ROUNDS = 10  # without the fix about half the rounds leave a consumer unassigned
JOINING_ROUNDS = 3  # rounds that also add a second member to each group
TOPICS_PER_ROUND = 30  # a namespace's worth: the broker's metadata for the round is not instant
GROUPS = 3
FAST = {"heartbeat_interval_ms": 300}  # members notice a rebalance within a beat, so the rounds stay quick


def poll_until_assigned(consumers, partitions: int, timeout: float) -> None:
    """Poll every consumer in turn (one thread, like the SMS workers) until each holds ``partitions``."""
    started = time.monotonic()
    while (any(len(c.assignment()) != partitions for c in consumers)
           and time.monotonic() - started < timeout):
        for consumer in consumers:
            consumer.poll(timeout_ms=50)


def test_fresh_consumers_and_joining_members_are_assigned_within_seconds(kafka_bootstrap):
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="test-assignment")
    unassigned: list[str] = []
    try:
        for round_ in range(ROUNDS):
            prefix = f"asg{uuid.uuid4().hex[:8]}"
            names = [f"{prefix}.t{n}" for n in range(TOPICS_PER_ROUND)]
            admin.create_topics([NewTopic(name, 2, 1) for name in names], timeout_ms=30_000)
            first = [make_consumer(kafka_bootstrap, name, f"{name}.group", **FAST) for name in names[-GROUPS:]]
            try:
                poll_until_assigned(first, 2, timeout=15)
                unassigned += [f"round {round_}: {c.subscription()}" for c in first if len(c.assignment()) != 2]
                if round_ < JOINING_ROUNDS:
                    second = [make_consumer(kafka_bootstrap, name, f"{name}.group", **FAST) for name in names[-GROUPS:]]
                    try:
                        members = first + second
                        poll_until_assigned(members, 1, timeout=20)  # each group's 2 partitions, 1 each
                        unassigned += [f"round {round_} (joined): {c.subscription()}" for c in members
                                       if len(c.assignment()) != 1]
                    finally:
                        for consumer in second:
                            consumer.close()
            finally:
                for consumer in first:
                    consumer.close()
    finally:
        admin.close()
    assert not unassigned, unassigned
