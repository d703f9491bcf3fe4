"""One composed body per (alert, language, number family), reused for every recipient of the alert.

The alerts library composes and enforces the body rules; the only per-number rule (no URL to +86)
depends on the number's country, so +86 and other numbers are composed apart.
"""

from __future__ import annotations

from alerts.body_rules import BodyRules
from alerts.composition import Recipient, compose
from contracts.alert_request import AlertRequested
from contracts.common import Language

_SAMPLE = {True: "+8613900000000", False: "+442079460000"}


class AlertBodies:
    def __init__(self, alert: AlertRequested, rules: BodyRules):
        self.alert, self.rules = alert, rules
        self._cache: dict[tuple[str, bool], tuple[str, int]] = {}

    def body_for(self, language: str, to: str) -> tuple[str, int]:
        """(body, segments); raises the alerts library's TemplateParamError / BodyRuleViolation."""
        key = (language, to.startswith("+86"))
        if key not in self._cache:
            lang = Language(language) if language in Language._value2member_map_ else Language.ZH_CN
            composed = compose(self.alert, Recipient(to=_SAMPLE[key[1]], language=lang), self.rules)
            self._cache[key] = (composed.body, composed.segments.segments)
        return self._cache[key]
