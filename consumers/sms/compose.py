"""One composed body per (alert, language, number family), reused for every recipient of the alert.

The alerts library composes and enforces the body rules; the only per-number rule (no URL to +86)
depends on the number's country, so +86 and other numbers are composed apart.
"""

from __future__ import annotations

from alerts.body_rules import BodyRules
from alerts.composition import Recipient, compose, compose_emergency_fallback
from contracts.alert_request import AlertRequested
from contracts.common import Language

_SAMPLE = {True: "+8613900000000", False: "+442079460000"}


class AlertBodies:
    """``fallback``: the emergency's minimal safe body, naming ``school`` (the directory's name) if given."""

    def __init__(self, alert: AlertRequested, rules: BodyRules, *, fallback: bool = False, school: str | None = None):
        self.alert, self.rules, self.fallback = alert, rules, fallback
        self.context = {"school": school} if school else {}
        self._cache: dict[tuple[str, bool], tuple[str, int]] = {}

    def check(self) -> None:
        """Compose every language and number family once: every rule is checked before the first job goes out."""
        for language in ("zh-CN", "en"):
            for to in _SAMPLE.values():
                self.body_for(language, to)

    def body_for(self, language: str, to: str) -> tuple[str, int]:
        """(body, segments); raises the alerts library's TemplateParamError / BodyRuleViolation."""
        key = (language, to.startswith("+86"))
        if key not in self._cache:
            lang = Language(language) if language in Language._value2member_map_ else Language.ZH_CN
            if self.fallback:
                composed = compose_emergency_fallback(self.alert, Recipient(_SAMPLE[key[1]], lang, self.context),
                                                      self.rules)
            else:
                composed = compose(self.alert, Recipient(to=_SAMPLE[key[1]], language=lang), self.rules)
            self._cache[key] = (composed.body, composed.segments.segments)
        return self._cache[key]
