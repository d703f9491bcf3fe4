"""One CAP thread (an alert and the Updates and Cancels that reference it) → alert requests and cancellations.

Pure, over a state dict kept per thread root: ``{"p": partition, "exercise": bool, "sender": the thread's
original sender, "alerts": [alert ids], "told": [school ids], "missing": {"lat", "lon", "sent"} | None,
"steps": rings issued, "cancelled": bool, "scheduled": [{"due": iso time, "event": CloudEvent JSON}]}``.
An Exercise or Test message never updates or cancels an Actual thread, nor the reverse; an Update or Cancel
from anyone but the thread's original sender (or one configured to act for it) is refused.

What each status, time and priority means is in ``semantics``; every CAP message ends with one audit record
(``cap.sent``, ``cap.scheduled`` or ``cap.not_sent``) that says why.
"""

from __future__ import annotations

from datetime import datetime

from contracts.alert_request import EMERGENCY_VALIDITY_S, AlertKind, AlertRequested, SchoolList
from contracts.cap.sms import (  # noqa: F401  (re-exported)
    asks_acknowledgement,
    cap_alert_id,
    cap_params,
    short_hash,
    thread_root,
)
from contracts.codec import decode
from contracts.common import Priority
from contracts.emergency import CapMsgType, CapStatus, EmergencyAlertIssued
from contracts.errors import ChildSafeError
from contracts.events import EmergencyAlertIssuedEvent
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas
from streams.emergency.semantics import (
    check_sender,
    expired,
    hold_until,
    is_missing_child_event,
    never_sent,
    original_sender,
    priority,
)
from streams.emergency.widening import due_steps, ring_schools
from streams.emitting import alert_output, audit_output, cancel_output, chunks
from streams.output import Output

SOURCE = "/childsafe/streams/emergency"
ACTOR = "streams.emergency"


class ExerciseMismatch(ChildSafeError):
    """An Exercise/Test message referenced an Actual alert (or the reverse): it was dead-lettered; the
    sender must reference an alert of the same status."""


def record(event: EmergencyAlertIssuedEvent, root: str, outcome: str, why: str, now: datetime,
           **details) -> Output:
    """The alert record: what became of this CAP message and why (on the audit topic)."""
    a = event.data
    return audit_output(ACTOR, f"cap.{outcome}", a.identifier, outcome, why, now,
                        {"thread": root[:200], "status": a.status.value, "msg_type": a.msg_type.value, **details},
                        f"{event.id}:{outcome}")


def _cap_requests(event: EmergencyAlertIssuedEvent, root: str, schools: list[str], conf: AlertingConfig,
                  now: datetime, include_guardians: bool = True) -> tuple[list[Output], list[str]]:
    a = event.data
    if a.missing_child is None and is_missing_child_event(a):
        # AMBER-style: the sensitive missing-child wording only, never the sender's free text (names)
        kind, params = AlertKind.MISSING_CHILD, {}
    else:
        kind, params = AlertKind.CAP_EMERGENCY, cap_params(a)
    outputs, ids = [], []
    for n, chunk in enumerate(chunks(schools, conf.holders_per_alert)):
        alert = AlertRequested(alert_id=cap_alert_id(root, a.identifier, n), kind=kind,
                               priority=priority(a), audience=SchoolList(school_ids=chunk,
                                                                         include_guardians=include_guardians),
                               params=params, exercise=a.is_exercise, guaranteed_reach=True, validity_seconds=EMERGENCY_VALIDITY_S,
                               requires_ack=asks_acknowledgement(a), source_event_id=event.id, reason=f"CAP {a.msg_type.value} {a.event[:80]}")
        ids.append(alert.alert_id)
        outputs.append(alert_output(alert, SOURCE, now, correlationid=event.id))
    return outputs, ids


def _new_state(partition: int, a: EmergencyAlertIssued) -> dict:
    return {"p": partition, "exercise": a.is_exercise, "sender": original_sender(a), "alerts": [], "told": [],
            "missing": None, "steps": 0, "cancelled": False, "scheduled": []}


def handle(event: EmergencyAlertIssuedEvent, partition: int, state: dict | None, atlas: SchoolAtlas,
           conf: AlertingConfig, now: datetime) -> tuple[list[Output], dict | None]:
    a = event.data
    root = thread_root(a)
    why = never_sent(a)
    if why:  # Draft and System touch no thread and tell nobody
        return [record(event, root, "not_sent", why, now)], state
    if state is not None and state["exercise"] != a.is_exercise:
        raise ExerciseMismatch(f"status {a.status.value} message {a.identifier!r} references a "
                               f"{'non-Actual' if state['exercise'] else 'Actual'} alert; refused")
    check_sender(a, conf.cap_delegates, (state or {}).get("sender"))
    state = state or _new_state(partition, a)
    if a.msg_type in (CapMsgType.ALERT, CapMsgType.UPDATE):
        why = expired(a, now)
        if why:
            return [record(event, root, "not_sent", why, now)], state
        due = hold_until(a, now)
        if due is not None and not state["cancelled"]:
            waiting = state.get("scheduled", []) if a.msg_type is CapMsgType.ALERT else []  # an Update supersedes
            waiting = waiting + [{"due": due.isoformat(), "event": event.to_bytes().decode()}]
            return ([record(event, root, "scheduled", f"held until {due.isoformat()} (effective/onset)", now)],
                    {**state, "scheduled": waiting})
    outputs: list[Output] = []
    found = a.missing_child is not None and a.missing_child.found
    if a.msg_type in (CapMsgType.CANCEL, CapMsgType.UPDATE) and (a.msg_type is CapMsgType.CANCEL or found
                                                                 or a.missing_child is None):
        why = "child found" if found else f"CAP {a.msg_type.value} {a.identifier}"
        outputs += [cancel_output(x, why, event.id, SOURCE, now) for x in state["alerts"]]
        state = {**state, "scheduled": []}
        if a.msg_type is CapMsgType.CANCEL or found:
            outputs.append(record(event, root, "not_sent", f"{why}: thread cancelled, "
                                                           f"{len(state['alerts'])} alert(s) stopped", now))
            return outputs, {**state, "cancelled": True, "missing": None}
    if state["cancelled"]:
        return outputs + [record(event, root, "not_sent", "thread already cancelled", now)], state
    if a.status is CapStatus.TEST:
        schools = list(conf.cap_test_schools)
        if not schools:
            return outputs + [record(event, root, "not_sent", "status Test: only configured test recipients are "
                                     "told (CHILDSAFE_CAP_TEST_SCHOOLS) and none are configured", now)], state
        more, ids = _cap_requests(event, root, schools, conf, now, include_guardians=False)
        return (outputs + more + [record(event, root, "sent", "status Test: test recipients only", now,
                                         schools=len(schools))],
                {**state, "alerts": state["alerts"] + ids})
    if a.missing_child is not None:
        if state["missing"] is None and a.msg_type is CapMsgType.ALERT:
            child = a.missing_child
            state = {**state, "missing": {"lat": child.last_seen.lat, "lon": child.last_seen.lon,
                                          "sent": a.sent.isoformat(), "root": root, "event_id": event.id}}
        more, state = widen(state, atlas, conf, now)
        return outputs + more + [record(event, root, "sent", "missing child: widening rings", now)], state
    schools = atlas.in_areas(a.areas)
    more, ids = _cap_requests(event, root, schools, conf, now)
    outcome = ("sent", f"{len(schools)} school(s) in the area") if schools else ("not_sent", "no school in the area")
    return (outputs + more + [record(event, root, *outcome, now, schools=len(schools))],
            {**state, "alerts": state["alerts"] + ids, "told": sorted(set(state["told"]) | set(schools))})


def release_due(state: dict, atlas: SchoolAtlas, conf: AlertingConfig, now: datetime) -> tuple[list[Output], dict]:
    """Send the held messages whose time has come (each rechecked: expired meanwhile → recorded, not sent)."""
    due = [s for s in state.get("scheduled", []) if datetime.fromisoformat(s["due"]) <= now]
    if not due:
        return [], state
    outputs: list[Output] = []
    state = {**state, "scheduled": [s for s in state["scheduled"] if s not in due]}
    for item in due:
        event = decode(item["event"].encode(), EmergencyAlertIssuedEvent)
        more, new = handle(event, state["p"], state, atlas, conf, now)
        outputs += more
        state = new if new is not None else state
    return outputs, state


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
            alert = AlertRequested(alert_id=f"mc:{short_hash(m['root'])}:r{k}:{n}", kind=AlertKind.MISSING_CHILD,
                                   priority=Priority.EMERGENCY, audience=SchoolList(school_ids=chunk),
                                   exercise=state["exercise"], guaranteed_reach=True, validity_seconds=EMERGENCY_VALIDITY_S,
                                   source_event_id=m["event_id"],
                                   reason=f"missing child: ring {k} ({conf.widening[k][1]:.0f} km)")
            alerts.append(alert.alert_id)
            outputs.append(alert_output(alert, SOURCE, now, correlationid=m["event_id"]))
        told |= set(schools)
        steps = k + 1
    return outputs, {**state, "alerts": alerts, "told": sorted(told), "steps": steps}
