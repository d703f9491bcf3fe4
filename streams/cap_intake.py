"""CAP 1.2 XML over HTTP: the emergency-alert intake accepts ``application/cap+xml`` (or any ``…xml``) beside JSON.

The event id derives from the CAP (sender, identifier, sent) triple, which CAP makes unique: a feed that
re-posts the same message is routed once.
"""

from __future__ import annotations

import hashlib

from contracts.cap import from_cap
from contracts.events import EmergencyAlertIssuedEvent
from streams.emergency.semantics import check_sender

XML_TYPES = ("application/cap+xml", "application/xml", "text/xml")


def is_xml(content_type: str | None) -> bool:
    kind = (content_type or "").split(";")[0].strip().lower()
    return kind in XML_TYPES or kind.endswith("+xml")


def cap_event(raw: bytes, source: str, max_bytes: int) -> EmergencyAlertIssuedEvent:
    """Raises CapRejected (a ContractError naming the field) for unsafe, malformed or invalid CAP."""
    alert = from_cap(raw, max_bytes=max_bytes)
    triple = f"{alert.sender},{alert.identifier},{alert.sent.isoformat()}"
    event_id = "cap-" + hashlib.sha256(triple.encode()).hexdigest()[:32]
    return EmergencyAlertIssuedEvent.new(alert, source=source, subject=alert.identifier[:200], id=event_id)


def check_thread_sender(event: EmergencyAlertIssuedEvent, alerting) -> None:
    """At the door (JSON or XML): an Update or Cancel must come from the sender of the alert it references
    (or one configured to act for it); raises a ContractError naming ``data.references`` → 422. The streams
    agent checks the same against the thread it keeps, for messages that arrive by Kafka."""
    check_sender(event.data, getattr(alerting, "cap_delegates", None) or {})
