"""Errors of the SMS workers; each says what the operator should do."""

from __future__ import annotations

from contracts.errors import ChildSafeError


class SmsWorkerError(ChildSafeError):
    """Root of the SMS workers' errors."""


class ProduceFailed(SmsWorkerError):
    """Kafka did not acknowledge jobs: the offset was not committed, so the alert is fanned out again on
    restart (jobs carry dedup keys, so repeats are harmless). Check the broker and the topic."""


class UnknownAlert(SmsWorkerError):
    """A command named an alert the SMS ledger has never seen: check the alert id."""
