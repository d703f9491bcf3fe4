"""CAP test data (made-up): a CAP alert builder on the fake clock's start, and hostile XML bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from contracts.clock import FakeClock
from contracts.emergency import EmergencyAlertIssued
from contracts.events import EmergencyAlertIssuedEvent

CLOCK_START = FakeClock().now()


def cap(identifier="A-1", msg_type="Alert", status="Actual", refs=(), **changes) -> EmergencyAlertIssuedEvent:
    base = dict(identifier=identifier, sender="sender@example.invalid", sent=CLOCK_START, status=status,
                msg_type=msg_type, scope="Public", categories=["Met"], event="暴雨", urgency="Immediate",
                severity="Severe", certainty="Observed",
                references=[{"sender": "sender@example.invalid", "identifier": r, "sent": CLOCK_START} for r in refs],
                areas=[{"area_desc": "示例区", "polygons": [[{"lat": 31.1, "lon": 121.5}, {"lat": 31.3, "lon": 121.5},
                                                          {"lat": 31.3, "lon": 121.7}, {"lat": 31.1, "lon": 121.5}]],
                        "circles": [{"center": {"lat": 31.23, "lon": 121.47}, "radius_km": 1}],
                        "geocodes": {"GB/T2260": "310115"}}])
    base.update(changes)
    return EmergencyAlertIssuedEvent.new(EmergencyAlertIssued.model_validate(base), source="/test", id=f"e-{identifier}")


def missing(identifier="MC-1", **changes):
    child = {"last_seen_at": CLOCK_START, "last_seen": {"lat": 40.0, "lon": 100.0}, "age": 7, "description": "红色外套"}
    return cap(identifier, categories=["Rescue"], event="儿童走失", areas=[{"area_desc": "最后出现地点周边"}],
               missing_child={**child, **changes.pop("child", {})}, **changes)


HOSTILE = {
    "external entity": b'<?xml version="1.0"?><!DOCTYPE alert [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                       b'<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&xxe;</identifier></alert>',
    "billion laughs": b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                      + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                                 for i in range(1, 10))
                      + b']><alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">&lol9;</alert>',
    "network DTD": b'<?xml version="1.0"?><!DOCTYPE alert SYSTEM "http://192.0.2.1/cap.dtd"><alert/>',
}


def missing_child_alert(identifier: str, msg_type="Alert", status="Actual", found=False, refs=()) -> EmergencyAlertIssued:
    now = datetime.now(UTC).replace(microsecond=0)
    return EmergencyAlertIssued.model_validate(dict(
        identifier=identifier, sender="police@example.invalid", sent=now if not refs else now + timedelta(seconds=1),
        status=status, msg_type=msg_type, scope="Public", categories=["Rescue"], event="儿童走失",
        urgency="Immediate", severity="Severe", certainty="Observed", areas=[{"area_desc": "最后出现地点周边"}],
        references=[{"sender": "police@example.invalid", "identifier": r[0], "sent": r[1]} for r in refs],
        missing_child={"last_seen_at": now, "last_seen": {"lat": 40.0, "lon": 100.0}, "age": 7,
                       "description": "红色外套", "found": found}))
