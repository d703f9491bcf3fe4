"""Composition of the SMS side from settings: gateway (Twilio or the sandbox), policy, rate, body rules."""

from __future__ import annotations

from alerts.body_rules import BodyRules
from alerts.policy import QuietHours
from alerts.rate_limit import TokenBucket
from alerts.twilio_gateway import TwilioGateway
from alerts.webhook_auth import WebhookVerifier
from consumers.sms.rate_slots import SharedRateLimit
from contracts.clock import Clock, SystemClock
from ops.settings import Settings


def make_gateway(settings: Settings) -> TwilioGateway:
    return TwilioGateway(
        account_sid=settings.twilio_account_sid, auth_token=settings.twilio_auth_token.get_secret_value(),
        from_number=settings.twilio_from or None, messaging_service_sid=settings.twilio_messaging_service_sid or None,
        base_url=settings.twilio_base_url or None, timeout=settings.twilio_timeout_s)


def make_quiet_hours(settings: Settings) -> QuietHours:
    return QuietHours(start=settings.sms_quiet_start, end=settings.sms_quiet_end, tz=settings.sms_quiet_tz)


def make_rate_limiter(settings: Settings, engine=None, clock: Clock | None = None) -> TokenBucket | SharedRateLimit:
    """With the database (``engine``): one schedule per sending number shared by every dispatcher; without it,
    this process's own token bucket (benchmarks, a single sender in tests)."""
    if engine is None:
        return TokenBucket(rate=settings.sms_rate_per_s, clock=clock)
    sender = settings.twilio_messaging_service_sid or settings.twilio_from
    return SharedRateLimit(engine, sender, settings.sms_rate_per_s, clock or SystemClock())


def make_body_rules(settings: Settings) -> BodyRules:
    return BodyRules(max_segments=settings.sms_max_segments)


def make_webhook_verifier(settings: Settings) -> WebhookVerifier:
    """Refuses the sandbox's public auth token unless the provider is the local sandbox (ops/identity.py)."""
    from ops.identity import webhook_auth_token

    return WebhookVerifier(webhook_auth_token(settings))
