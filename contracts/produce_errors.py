"""Which Kafka client errors are worth retrying: one small classification every producer wrapper calls.

It names exception classes instead of importing them, so it covers kafka-python and aiokafka alike (their
``retriable`` flags disagree: aiokafka's KafkaTimeoutError says False) and keeps contracts free of client
libraries. A wrapped error (``raise X from cause``) is judged by every exception in its chain.
"""

from __future__ import annotations

# The broker refused the record itself: sending it again gets the same answer. Dead-letter or fix the input.
NON_RETRYABLE = frozenset({
    "MessageSizeTooLargeError", "RecordListTooLargeError", "RecordTooLargeError", "RecordTooLargeException",
    "InvalidTopicError", "InvalidTopicException", "TopicAuthorizationFailedError", "ClusterAuthorizationFailedError",
    "TransactionalIdAuthorizationFailed", "UnsupportedVersionError", "UnsupportedForMessageFormatError",
    "InvalidRequiredAcksError", "CorruptRecordError", "CorruptRecordException", "InvalidRecordError",
    "InvalidTimestampError", "UnsupportedCodecError", "SerializationError",
})
# The idempotent producer's own state is broken (a broker lost its sequence numbers after a crash, the producer
# id expired): the same producer would fail forever, a new one (new producer id) may send the same records again.
NEEDS_NEW_PRODUCER = frozenset({
    "OutOfOrderSequenceNumber", "OutOfOrderSequenceNumberError", "UnknownProducerId", "UnknownProducerIdError",
    "InvalidProducerEpoch", "InvalidProducerIdMapping", "InvalidProducerIdMappingError", "ProducerFenced",
    "ProducerFencedError",
})
# Not an outage either: a consumer lost its partitions to a rebalance; the new owner redoes the work.
NOT_AN_OUTAGE = frozenset({"CommitFailedError", "IllegalStateError", "RebalanceInProgressError"})


def _chain(exc: BaseException | None):
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for e in _chain(exc) for cls in type(e).__mro__}


def _from_kafka_client(exc: BaseException) -> bool:
    return any(type(e).__module__.split(".")[0] in ("kafka", "aiokafka") for e in _chain(exc))


def is_non_retryable_produce_error(exc: BaseException) -> bool:
    """True when the broker refused the record for what it is (too large, bad topic, not allowed)."""
    return bool(_names(exc) & NON_RETRYABLE)


def needs_new_producer(exc: BaseException) -> bool:
    """True when only a new producer can send again (``NEEDS_NEW_PRODUCER``); retry with one."""
    return bool(_names(exc) & NEEDS_NEW_PRODUCER)


def is_retryable_kafka_error(exc: BaseException) -> bool:
    """True for a Kafka client error that means "the cluster is not answering right now" (no broker, no leader,
    timeout, not enough replicas): wait and send the same records again."""
    if not _from_kafka_client(exc) and "ProduceFailed" not in _names(exc):
        return False
    return not (_names(exc) & (NON_RETRYABLE | NOT_AN_OUTAGE))
