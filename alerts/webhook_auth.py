"""Checking that a webhook (status callback, inbound SMS) really comes from the provider.

The SDK's RequestValidator recomputes X-Twilio-Signature over the full public URL the provider called
(scheme, host, port, path and query) plus the POST parameters. Behind a proxy, pass the public URL, not the
one the app sees.
"""

from __future__ import annotations

from collections.abc import Mapping

from twilio.request_validator import RequestValidator

from alerts.errors import ForgedWebhook, UnsignedWebhook

SIGNATURE_HEADER = "X-Twilio-Signature"
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"


class WebhookVerifier:
    def __init__(self, auth_token: str):
        self._validator = RequestValidator(auth_token)

    def verify(self, url: str, params: Mapping[str, str], signature: str | None) -> None:
        """Return if the signature matches; raise UnsignedWebhook or ForgedWebhook otherwise."""
        if not signature:
            raise UnsignedWebhook(f"webhook to {url} has no {SIGNATURE_HEADER} header")
        multi = hasattr(params, "getall") or hasattr(params, "getlist")  # keep repeated keys (aiohttp, Django)
        if not self._validator.validate(url, params if multi else dict(params), signature):
            raise ForgedWebhook(f"webhook to {url}: {SIGNATURE_HEADER} does not match its URL and parameters")

    def verify_request(self, url: str, params: Mapping[str, str], headers: Mapping[str, str]) -> None:
        """Same, reading the signature from request headers (any mapping with case-insensitive get works)."""
        signature = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
        self.verify(url, params, signature)
