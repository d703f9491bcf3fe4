"""The audit chain's anchors on the audit topic (the `AnchorLog` port of consumers/cases/anchor.py)."""

from __future__ import annotations

from collections.abc import Sequence

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError
from kafka.partitioner.default import murmur2

from consumers.cases.anchor import KEY
from consumers.kafka_io import AcknowledgedProducer


class KafkaAnchorLog:
    """Written acks=all (idempotent) through `publisher`, read back from the one partition the key hashes to
    (murmur2, as every Kafka client's default partitioner). The caller owns (and closes) the publisher."""

    def __init__(self, bootstrap: str, topic: str, publisher: AcknowledgedProducer):
        self.bootstrap, self.topic, self.key, self.publisher = bootstrap, topic, KEY, publisher

    def append(self, values: Sequence[bytes]) -> None:
        for value in values:
            self.publisher.send(self.topic, self.key, value)
        self.publisher.flush()

    def read(self) -> list[bytes]:
        consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                 client_id="childsafe-audit-anchor")
        try:
            partitions = sorted(consumer.partitions_for_topic(self.topic) or ())
            if not partitions:
                raise KafkaError(f"topic {self.topic} not found: run `childsafe topics apply`")
            tp = TopicPartition(self.topic, partitions[(murmur2(self.key) & 0x7FFFFFFF) % len(partitions)])
            consumer.assign([tp])
            consumer.seek_to_beginning(tp)
            end = consumer.end_offsets([tp])[tp]
            values: list[bytes] = []
            while consumer.position(tp) < end:
                for batch in consumer.poll(timeout_ms=1000).values():
                    values.extend(r.value for r in batch if r.key == self.key)
            return values
        finally:
            consumer.close()
