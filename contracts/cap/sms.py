"""What a CAP alert becomes on the SMS side: its template parameters and its alert ids — shared by the streams
agent that requests the alerts and the console that previews them, so a preview is the body that will be sent."""

from __future__ import annotations

import hashlib

from contracts.alert_request import AlertKind
from contracts.alert_slots import alert_params, normalise_text, slot_specs
from contracts.common import Language, Priority
from contracts.emergency import (
    CapCertainty,
    CapMsgType,
    CapSeverity,
    CapStatus,
    CapUrgency,
    EmergencyAlertIssued,
)

EMERGENCY_URGENCY = frozenset({CapUrgency.IMMEDIATE, CapUrgency.EXPECTED})
EMERGENCY_SEVERITY = frozenset({CapSeverity.EXTREME, CapSeverity.SEVERE})
EMERGENCY_CERTAINTY = frozenset({CapCertainty.OBSERVED, CapCertainty.LIKELY})
ACK_STATUSES = frozenset({CapStatus.ACTUAL, CapStatus.EXERCISE})
ACK_MSG_TYPES = frozenset({CapMsgType.ALERT, CapMsgType.UPDATE})
CAP_FIELDS = {"area": "data.areas[0].area_desc", "event": "data.event", "instruction": "data.instruction"}


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def thread_root(alert: EmergencyAlertIssued) -> str:
    """The earliest referenced message (CAP Updates and Cancels list the alerts they follow), else itself."""
    if alert.references:
        first = min(alert.references, key=lambda r: r.sent)
        return f"{first.sender},{first.identifier}"
    return f"{alert.sender},{alert.identifier}"


def thread_alert_prefix(root: str) -> str:
    """Every alert request of a CAP thread has an id starting with this (its SMS ledger rows too)."""
    return f"cap:{short_hash(root)}:"


def cap_alert_id(root: str, identifier: str, chunk: int) -> str:
    """The alert request for one chunk of the schools one CAP message of the thread reaches."""
    return f"{thread_alert_prefix(root)}{short_hash(identifier)}:{chunk}"


def _language(tag: str) -> Language | None:
    tag = tag.strip().lower()
    return next((lang for lang in Language if tag == lang.value.lower() or tag.split("-")[0] == lang.value), None)


def cap_params(a: EmergencyAlertIssued) -> dict[str, str]:
    """The CAP alert's SMS parameters, free text normalised (line breaks and all), and ``slot@language`` for every
    other info block's language (the composer picks the recipient's); a ContractError names the field that cannot
    compose."""
    params = alert_params(AlertKind.CAP_EMERGENCY, {
        "area": a.areas[0].area_desc if a.areas else None, "event": a.event, "instruction": a.instruction,
        "msg_type": a.msg_type.value, "status": a.status.value}, sources=CAP_FIELDS)
    specs, main = slot_specs(AlertKind.CAP_EMERGENCY), _language(a.language)
    for other in a.translations:
        lang = _language(other.language)
        if lang is None or lang == main:
            continue
        for slot, text in (("event", other.event), ("instruction", other.instruction)):
            if text and (value := normalise_text(text, specs[slot].limit)):
                params[f"{slot}@{lang.value}"] = value
    return params


def cap_priority(a: EmergencyAlertIssued) -> Priority:
    """Urgency × severity × certainty, as public warning systems do (DOMAIN.md "Alerts"): Immediate/Expected with
    Extreme/Severe and Observed/Likely is an emergency; Past, Minor or Unlikely is routine; the rest urgent."""
    if a.urgency in EMERGENCY_URGENCY and a.severity in EMERGENCY_SEVERITY and a.certainty in EMERGENCY_CERTAINTY:
        return Priority.EMERGENCY
    if a.urgency is CapUrgency.PAST or a.severity is CapSeverity.MINOR or a.certainty is CapCertainty.UNLIKELY:
        return Priority.NORMAL
    return Priority.URGENT


def asks_acknowledgement(a: EmergencyAlertIssued) -> bool:
    """Whether the SMS of this CAP message asks its recipients to acknowledge ("收到请回复1"): an emergency (the
    three axes above) that people must act on — an Alert or Update of status Actual, or of status Exercise, whose
    participants practise the acknowledgement too. Never a Test (all recipients ignore it, CAP 1.2 §3.2.1),
    never a routine or merely urgent message, never a Cancel (nothing more to do)."""
    return a.status in ACK_STATUSES and a.msg_type in ACK_MSG_TYPES and cap_priority(a) is Priority.EMERGENCY
