"""The streams writer recovers from a broken idempotent producer, on the real broker.

After a broker crash aiokafka 0.14's idempotent producer can hold sequence numbers the partition leader never
saw (it numbers batches when it drains them, so a batch that failed leaves a gap): every later batch of that
partition gets ``OutOfOrderSequenceNumber`` and a producer that is only retried is stuck for good. Here the gap
is made on purpose (the producer's own sequence for a partition is moved ahead, as a lost batch leaves it), so
the broker answers exactly that error every run. The stuck-producer case (no acknowledgement, a flush that
never ends) is in tests/unit/test_outage_and_produce_errors.py."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import OutOfOrderSequenceNumber
from kafka import KafkaAdminClient
from kafka.admin import NewTopic

from streams.metrics import PRODUCERS_REPLACED
from streams.output import Output
from streams.writer import KafkaWriter, write_durably
from tests.integration.helpers import read_topic

pytestmark = pytest.mark.integration


def _topic(bootstrap: str, **config) -> str:
    name = f"writer-{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        admin.create_topics([NewTopic(name, num_partitions=1, replication_factor=1,
                                      topic_configs={k.replace("_", "."): v for k, v in config.items()})])
    finally:
        admin.close()
    return name


def _replaced() -> float:
    return PRODUCERS_REPLACED._value.get()


async def test_out_of_order_sequence_replaces_the_producer_and_the_outputs_are_written(kafka_bootstrap):
    topic = _topic(kafka_bootstrap)
    writer = KafkaWriter(kafka_bootstrap, "unused", client_id="writer-recovery-test")
    try:
        await writer.write([Output(topic, b"k", b"before", partition=0)])
        broken = writer._producer
        broken._txn_manager.increment_sequence_number(TopicPartition(topic, 0), 5)  # the gap a lost batch leaves
        replaced = _replaced()
        with pytest.raises(OutOfOrderSequenceNumber):
            await writer.write([Output(topic, b"k", b"lost-sequence", partition=0)])
        assert writer._producer is None and writer.replaced == 1 and _replaced() == replaced + 1

        outputs = [Output(topic, b"k", f"after-{i}".encode(), partition=0) for i in range(3)]
        await write_durably(writer, outputs, max_delay_s=0.1)  # a new producer id: accepted
        assert writer._producer is not broken and writer.replaced == 1
    finally:
        await writer.close()
    values = [r.value for r in read_topic(kafka_bootstrap, topic, timeout=30,
                                          until=lambda rs: len(rs) >= 4)]
    assert values == [b"before", b"after-0", b"after-1", b"after-2"]
