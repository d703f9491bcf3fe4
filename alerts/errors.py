"""Errors of the alerts library; each docstring says what the operator should do."""

from __future__ import annotations

from contracts.errors import ChildSafeError


class AlertsError(ChildSafeError):
    """Root of the alerts library's errors."""


class TemplateParamError(AlertsError):
    """An alert's template parameter is missing or malformed: fix the producer of the alert request.
    Nothing was sent for it."""

    def __init__(self, field: str, reason: str, got: str | None = None):
        self.field, self.reason, self.got = field, reason, got
        tail = f" (got {got!r})" if got is not None else ""
        super().__init__(f"{field}: {reason}{tail}")


class BodyRuleViolation(AlertsError):
    """A composed SMS breaks a body rule and was refused before sending; ``rule`` names the rule.
    Change the template or the alert's parameters; never bypass the rule."""

    rule = "body-rule"

    def __init__(self, detail: str):
        self.detail = detail
        super().__init__(f"SMS refused by rule {self.rule}: {detail}")


class EmptyBodyRefused(BodyRuleViolation):
    """The body is empty: the template or its parameters produced nothing to send."""

    rule = "non-empty"


class UrlToChinaRefused(BodyRuleViolation):
    """A body for a +86 number contains a URL (Twilio China guidance: no URLs). Remove the link."""

    rule = "no-url-to-cn"


class TooManySegments(BodyRuleViolation):
    """The body needs more segments than configured (default 8 UCS-2): shorten the parameters."""

    rule = "max-segments"


class SensitiveDetailRefused(BodyRuleViolation):
    """A sensitive-case SMS would carry a name, the reporter or case detail: only 'act now, and where'
    may be said. Check the producer: such values must never be in the alert's parameters."""

    rule = "sensitive-no-detail"


class WebhookSignatureError(AlertsError):
    """A webhook did not come from the provider: reject it (HTTP 403) and do not act on it. If genuine
    callbacks fail, check the auth token and that the URL checked is the public URL the provider called."""


class UnsignedWebhook(WebhookSignatureError):
    """The request carries no X-Twilio-Signature header."""


class ForgedWebhook(WebhookSignatureError):
    """The X-Twilio-Signature does not match the URL and parameters under our auth token."""
