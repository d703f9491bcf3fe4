"""The console's errors; each says what the person or the operator should do."""

from __future__ import annotations

from contracts.errors import ChildSafeError


class ConsoleError(ChildSafeError):
    """Something a console user or operator must fix; the message says what."""


class SignInRefused(ConsoleError):
    """Sign-in refused (unknown name, wrong password, disabled or throttled): check the account, wait, retry."""

    def __init__(self, reason: str, retry_after_s: int = 0):
        self.reason, self.retry_after_s = reason, retry_after_s
        super().__init__(f"sign-in refused: {reason}")


class AccountError(ConsoleError):
    """An account command was given a bad value: fix the value named."""
