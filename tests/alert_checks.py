"""Shared checks for the issue-9 tests: compose an alert as the fan-out would, everywhere, and assert the body
is clean; build a CAP alert with the fields a test cares about."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from alerts.body_rules import BodyRules
from alerts.composition import Recipient, compose
from alerts.templates import template_for
from contracts.alert_request import AlertRequested
from contracts.common import Language
from contracts.emergency import EmergencyAlertIssued
from contracts.events import AlertRequestedEvent, EmergencyAlertIssuedEvent
from ops.settings import Settings

BUDGET = BodyRules(max_segments=Settings().sms_max_segments)  # CHILDSAFE_SMS_MAX_SEGMENTS, 8 UCS-2 by default
NUMBERS = ("+8613900000000", "+442079460000")  # +86 (no URLs allowed) and a UK drama number
SENT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def composes_everywhere(alert: AlertRequested, school_name: str) -> None:
    """What the fan-out does: the directory's school name in the ``school`` slot, every language and number."""
    if not alert.sensitive and "school" in template_for(alert.kind).slot_names:
        alert = alert.model_copy(update={"params": {**alert.params, "school": school_name}})
    for lang in (Language.ZH_CN, Language.EN):
        for to in NUMBERS:
            body = compose(alert, Recipient(to, lang), BUDGET).body
            assert ".。" not in body and "。。" not in body and "\n" not in body, body
            assert not any(unicodedata.category(ch) in ("Cf", "Cc", "Cs") for ch in body), body
            if lang is Language.ZH_CN and alert.kind.value in ("outbreak", "drill_overdue", "incident_emergency"):
                assert not any(w in body for w in ("food_poisoning", "evacuation", "district ")), body


def alerts_of(outputs) -> list[AlertRequested]:
    return [AlertRequestedEvent.model_validate_json(o.value).data for o in outputs
            if b'"cn.childsafe.alert.requested.v1"' in o.value]



def cap(identifier: str = "A-1", **changes) -> EmergencyAlertIssuedEvent:
    """An Actual, Immediate/Severe/Observed CAP alert over a 1 km circle; ``changes`` override its fields."""
    base = dict(identifier=identifier, sender="sender@example.invalid", sent=SENT, status="Actual", msg_type="Alert",
                scope="Public", categories=["Met"], event="暴雨", urgency="Immediate", severity="Severe",
                certainty="Observed",
                areas=[{"area_desc": "示例区", "circles": [{"center": {"lat": 31.23, "lon": 121.47}, "radius_km": 1}]}])
    base.update(changes)
    return EmergencyAlertIssuedEvent.new(EmergencyAlertIssued.model_validate(base), source="/test", id=f"e-{identifier}")
