"""Where the SMS webhooks record each callback before answering 2xx: the `sms.status.v1` topic."""

from __future__ import annotations

from consumers.kafka_io import TopicSink


class KafkaStatusJournal:
    """A callback is on ``sms.status.v1`` (acks=all, idempotent producer) when ``record`` returns."""

    def __init__(self, sink: TopicSink):
        self.sink = sink

    def record(self, event) -> None:
        self.sink.send(event.data.message_sid.encode(), event.to_bytes())
        self.sink.flush()
