"""One CAP thread (an alert and the Updates and Cancels that reference it) → alert requests and cancellations.

Pure, over a state dict kept per thread root: ``{"p": partition, "exercise": bool, "alerts": [alert ids],
"told": [school ids], "missing": {"lat", "lon", "sent"} | None, "steps": rings issued, "cancelled": bool}``.
An Exercise or Test message never updates or cancels an Actual thread, nor the reverse.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from contracts.alert_request import EMERGENCY_VALIDITY_S, AlertKind, AlertRequested, SchoolList
from contracts.common import Priority
from contracts.emergency import CapMsgType, CapSeverity, CapUrgency, EmergencyAlertIssued
from contracts.errors import ChildSafeError
from contracts.events import EmergencyAlertIssuedEvent
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas
from streams.emergency.widening import due_steps, ring_schools
from streams.emitting import alert_output, cancel_output, chunks
from streams.triage import Output

SOURCE = "/childsafe/streams/emergency"


class ExerciseMismatch(ChildSafeError):
    """An Exercise/Test message referenced an Actual alert (or the reverse): it was dead-lettered; the
    sender must reference an alert of the same status."""


def thread_root(alert: EmergencyAlertIssued) -> str:
    """The earliest referenced message (CAP Updates and Cancels list the alerts they follow), else itself."""
    if alert.references:
        first = min(alert.references, key=lambda r: r.sent)
        return f"{first.sender},{first.identifier}"
    return f"{alert.sender},{alert.identifier}"


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _priority(alert: EmergencyAlertIssued) -> Priority:
    if alert.severity in (CapSeverity.EXTREME, CapSeverity.SEVERE) and alert.urgency in (
            CapUrgency.IMMEDIATE, CapUrgency.EXPECTED):
        return Priority.EMERGENCY
    return Priority.URGENT


def _cap_requests(event: EmergencyAlertIssuedEvent, root: str, schools: list[str], conf: AlertingConfig,
                  now: datetime) -> tuple[list[Output], list[str]]:
    a = event.data
    params = {"area": (a.areas[0].area_desc if a.areas else "")[:30] or "-", "event": a.event[:40],
              "msg_type": a.msg_type.value, "status": a.status.value}
    if a.instruction:
        params["instruction"] = a.instruction[:60]
    outputs, ids = [], []
    for n, chunk in enumerate(chunks(schools, conf.holders_per_alert)):
        alert = AlertRequested(alert_id=f"cap:{_h(root)}:{_h(a.identifier)}:{n}", kind=AlertKind.CAP_EMERGENCY,
                               priority=_priority(a), audience=SchoolList(school_ids=chunk), params=params,
                               exercise=a.is_exercise, guaranteed_reach=True, validity_seconds=EMERGENCY_VALIDITY_S,
                               source_event_id=event.id, reason=f"CAP {a.msg_type.value} {a.event[:80]}")
        ids.append(alert.alert_id)
        outputs.append(alert_output(alert, SOURCE, now, correlationid=event.id))
    return outputs, ids


def handle(event: EmergencyAlertIssuedEvent, partition: int, state: dict | None, atlas: SchoolAtlas,
           conf: AlertingConfig, now: datetime) -> tuple[list[Output], dict]:
    a = event.data
    root = thread_root(a)
    if state is not None and state["exercise"] != a.is_exercise:
        raise ExerciseMismatch(f"status {a.status.value} message {a.identifier!r} references a "
                               f"{'non-Actual' if state['exercise'] else 'Actual'} alert; refused")
    state = state or {"p": partition, "exercise": a.is_exercise, "alerts": [], "told": [], "missing": None,
                      "steps": 0, "cancelled": False}
    outputs: list[Output] = []
    found = a.missing_child is not None and a.missing_child.found
    if a.msg_type in (CapMsgType.CANCEL, CapMsgType.UPDATE) and (a.msg_type is CapMsgType.CANCEL or found
                                                                 or a.missing_child is None):
        why = "child found" if found else f"CAP {a.msg_type.value} {a.identifier}"
        outputs += [cancel_output(x, why, event.id, SOURCE, now) for x in state["alerts"]]
        if a.msg_type is CapMsgType.CANCEL or found:
            return outputs, {**state, "cancelled": True, "missing": None}
    if state["cancelled"]:
        return outputs, state
    if a.missing_child is not None:
        if state["missing"] is None and a.msg_type is CapMsgType.ALERT:
            child = a.missing_child
            state = {**state, "missing": {"lat": child.last_seen.lat, "lon": child.last_seen.lon,
                                          "sent": a.sent.isoformat(), "root": root, "event_id": event.id}}
        more, state = widen(state, atlas, conf, now)
        return outputs + more, state
    schools = atlas.in_areas(a.areas)
    more, ids = _cap_requests(event, root, schools, conf, now)
    return outputs + more, {**state, "alerts": state["alerts"] + ids,
                            "told": sorted(set(state["told"]) | set(schools))}


def widen(state: dict, atlas: SchoolAtlas, conf: AlertingConfig, now: datetime) -> tuple[list[Output], dict]:
    """Issue every ring that is due and not yet issued: each reaches only schools not told before."""
    m = state.get("missing")
    if not m or state["cancelled"]:
        return [], state
    outputs, alerts, told = [], list(state["alerts"]), set(state["told"])
    steps = state["steps"]
    for k in due_steps(conf.widening, datetime.fromisoformat(m["sent"]), now, steps):
        schools = ring_schools(atlas, conf.widening, k, m["lat"], m["lon"], told)
        for n, chunk in enumerate(chunks(schools, conf.holders_per_alert)):
            alert = AlertRequested(alert_id=f"mc:{_h(m['root'])}:r{k}:{n}", kind=AlertKind.MISSING_CHILD,
                                   priority=Priority.EMERGENCY, audience=SchoolList(school_ids=chunk),
                                   exercise=state["exercise"], guaranteed_reach=True, validity_seconds=EMERGENCY_VALIDITY_S,
                                   source_event_id=m["event_id"],
                                   reason=f"missing child: ring {k} ({conf.widening[k][1]:.0f} km)")
            alerts.append(alert.alert_id)
            outputs.append(alert_output(alert, SOURCE, now, correlationid=m["event_id"]))
        told |= set(schools)
        steps = k + 1
    return outputs, {**state, "alerts": alerts, "told": sorted(told), "steps": steps}
