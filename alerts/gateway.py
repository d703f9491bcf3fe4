"""The SMS gateway port: what the dispatcher needs from a provider, and how failures are classified.

The Twilio implementation (official SDK) and the local Twilio-compatible sandbox both sit behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.errors import ChildSafeError


@dataclass(frozen=True)
class SentMessage:
    """The provider accepted the message: its sid identifies it in callbacks and look-ups."""

    sid: str
    status: str
    segments: int | None = None


@dataclass(frozen=True)
class ProviderMessage:
    """A message the provider already holds, found by look-up (reconciliation after an ambiguous send).

    Twilio's Message resource does not return the status-callback URL, so ``status_callback`` is None from
    the Twilio gateway: reconcile on ``to`` + ``body`` (the composed body carries the alert reference)."""

    sid: str
    to: str
    status: str
    status_callback: str | None
    body: str
    date_created: datetime | None = None
    error_code: int | None = None


class GatewayError(ChildSafeError):
    """A send did not succeed; subclasses say whether to retry, give up or reconcile first."""

    def __init__(self, message: str, code: int | None = None, http_status: int | None = None):
        super().__init__(message)
        self.code = code
        self.http_status = http_status


class TransientSendError(GatewayError):
    """Nothing was accepted (HTTP 5xx before acceptance, 429/20429, connection refused): retry with backoff."""


class PermanentSendError(GatewayError):
    """The provider refused this recipient for good (21211 invalid To, 21610 unsubscribed, 21614 not mobile)."""


class AmbiguousSendError(GatewayError):
    """The request went out but no answer came back (timeout, reset): the provider may hold the message.
    Never resend blindly: reconcile with ``find_messages`` first."""


class GatewayConfigError(GatewayError):
    """The provider refused our credentials or account (HTTP 401/403): stop sending and fix the settings;
    no recipient is at fault."""


class SmsGateway(Protocol):
    def send(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None) -> SentMessage:
        """Submit one message. ``status_callback`` carries the job marker used for reconciliation."""

    def find_messages(self, *, to: str) -> list[ProviderMessage]:
        """Messages the provider holds for ``to`` (newest first), to reconcile an ambiguous send."""

    def fetch(self, sid: str) -> ProviderMessage:
        """One message by sid (its current status)."""
