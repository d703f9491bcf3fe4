"""Errors of the SMS workers; each says what the operator should do."""

from __future__ import annotations

from contracts.errors import ChildSafeError


class SmsWorkerError(ChildSafeError):
    """Root of the SMS workers' errors."""


class UnknownAlert(SmsWorkerError):
    """A command named an alert the SMS ledger has never seen: check the alert id."""


class ResendRefused(SmsWorkerError):
    """"Resend to those who have not acknowledged" was refused by one of its rules; ``rule`` names which
    (``no_ack`` | ``cancelled`` | ``too_early`` | ``too_many_rounds`` | ``mode`` | ``nobody_left``) and the message
    says why and what to do."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
