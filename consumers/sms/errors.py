"""Errors of the SMS workers; each says what the operator should do."""

from __future__ import annotations

from contracts.errors import ChildSafeError


class SmsWorkerError(ChildSafeError):
    """Root of the SMS workers' errors."""


class UnknownAlert(SmsWorkerError):
    """A command named an alert the SMS ledger has never seen: check the alert id."""
