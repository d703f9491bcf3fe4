"""Missing child from a case: a public-security duty officer publishes the widening missing-child alert
(100/200/300/500 km, streams/emergency/) from a case, with where and when the child was last seen, and marks
the child found, which stops every further SMS at once.

Both are desk actions like the others (token → role → the unit's scope → act → record): only
``police_duty_officer`` may (403 otherwise), another unit's case is not found (404). Each writes, in the
action's transaction, a CAP 1.2 message (an Alert; then an Update with ``found``, from the same sender and
referencing the Alert) to the case outbox, which the case consumer's relay publishes to
``emergency.alerts.v1``, and a ``missing_child`` entry on the case timeline. The child's name is never
asked for; the description (clothing, appearance) travels only in the CAP parameters, which the sensitive
missing-child SMS never shows.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy import select

from consumers.cases.desk import Acting, CaseDeskBase, text
from consumers.cases.errors import IllegalTransition, InvalidCaseInput
from consumers.cases.models import CaseEvent
from consumers.cases.tracking import OutboxMessage
from consumers.store.core import School
from contracts.emergency import EmergencyAlertIssued, MissingChild
from contracts.errors import FieldError
from contracts.events import EmergencyAlertIssuedEvent

KIND = "missing_child"
CATEGORIES = ("missing_child", "trafficking")
SOURCE = "/consumers/cases/missing-child"
FUTURE_SLACK = timedelta(minutes=5)


def _number(field: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidCaseInput([FieldError(field, f"a number from {low} to {high}", type(value).__name__)])
    try:
        number = float(value)
    except ValueError:
        raise InvalidCaseInput([FieldError(field, f"a number from {low} to {high}", repr(value)[:40])]) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise InvalidCaseInput([FieldError(field, f"a number from {low} to {high}", repr(value)[:40])])
    return number


def _when(value, now: datetime) -> datetime:
    if not isinstance(value, str):
        raise InvalidCaseInput([FieldError("last_seen_at", "an ISO 8601 time with its offset", repr(value)[:40])])
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidCaseInput([FieldError("last_seen_at", "an ISO 8601 time with its offset",
                                           repr(value)[:40])]) from None
    if when.tzinfo is None:
        raise InvalidCaseInput([FieldError("last_seen_at", "needs its UTC offset (e.g. +08:00)", value[:40])])
    if when > now + FUTURE_SLACK:
        raise InvalidCaseInput([FieldError("last_seen_at", "must not be in the future", value[:40])])
    return when


def _events(act: Acting) -> list[CaseEvent]:
    return act.session.execute(select(CaseEvent).where(CaseEvent.case_id == act.case.case_id,
                                                       CaseEvent.kind == KIND).order_by(CaseEvent.id)).scalars().all()


class MissingChildDesk(CaseDeskBase):
    def __init__(self, factory, clock, topic: str, sender: str = "cases.childsafe"):
        super().__init__(factory, clock)
        self.topic, self.sender = topic, sender

    def _outbox(self, act: Acting, alert: EmergencyAlertIssued) -> None:
        event_id = "case-mc-" + hashlib.sha256(f"{alert.identifier},{alert.sent}".encode()).hexdigest()[:32]
        event = EmergencyAlertIssuedEvent.new(alert, source=SOURCE, subject=alert.identifier, id=event_id,
                                              time=act.now)
        act.session.add(OutboxMessage(id=event_id, topic=self.topic, key=alert.identifier.encode(),
                                      value=event.to_bytes(), purpose="missing", case_id=act.case.case_id,
                                      created_at=act.now))

    def publish(self, token: str | None, case_id: str, last_seen_at, age, description: str,
                lat=None, lon=None, school_id: str | None = None) -> dict:
        """Publish the widening alert from where the child was last seen: ``lat``/``lon``, or a school
        (default: the case's own)."""
        description = text("description", description, max_len=200)
        with self.acting(token, KIND, case_id) as act:
            if act.case.category not in CATEGORIES:
                raise IllegalTransition(f"case {case_id} is a {act.case.category} case; a missing-child alert "
                                        f"is published only from a {' or '.join(CATEGORIES)} case")
            events = _events(act)
            if events and events[-1].details.get("state") == "published":
                raise IllegalTransition(f"case {case_id}: a missing-child alert is already out "
                                        f"({events[-1].details['identifier']}); mark the child found first")
            if lat is not None or lon is not None:
                if school_id:
                    raise InvalidCaseInput([FieldError("school_id", "give lat/lon or a school, not both")])
                point = (_number("lat", lat, -90, 90), _number("lon", lon, -180, 180))
                where = "a reported place"
            else:
                school = act.session.get(School, school_id or act.case.school_id)
                if school is None or school.lat is None or school.lon is None:
                    raise InvalidCaseInput([FieldError("school_id", "a school with coordinates in the directory",
                                                       repr(school_id or act.case.school_id)[:80])])
                point, where = (school.lat, school.lon), f"school {school.id}"
            try:
                child = MissingChild(last_seen_at=_when(last_seen_at, act.now), last_seen={"lat": point[0],
                                     "lon": point[1]}, age=age, description=description)
            except ValidationError as exc:
                from contracts.codec import field_errors

                raise InvalidCaseInput(field_errors(exc)) from None
            identifier = f"{case_id}-MC{len(events) // 2 + 1}"
            alert = self._alert(identifier, act.now, child)
            self._outbox(act, alert)
            act.record(KIND, f"missing-child alert published (last seen at {where}, "
                             f"{child.last_seen_at.isoformat()}); widening 100/200/300/500 km",
                       details={"state": "published", "identifier": identifier, "sent": alert.sent.isoformat(),
                                "child": child.model_dump(mode="json")})
            return {"case_id": case_id, "identifier": identifier, "state": "published"}

    def found(self, token: str | None, case_id: str, why: str = "") -> dict:
        """The child is found: an Update with ``found`` stops every ring and every pending SMS."""
        why = text("reason", why, required=False, max_len=1000)
        with self.acting(token, KIND, case_id) as act:
            events = _events(act)
            if not events or events[-1].details.get("state") != "published":
                raise IllegalTransition(f"case {case_id}: no missing-child alert is out")
            published = events[-1].details
            child = MissingChild.model_validate({**published["child"], "found": True})
            sent = datetime.fromisoformat(published["sent"])
            alert = self._alert(f"{published['identifier']}-FOUND", act.now, child,
                                refs=[{"sender": self.sender, "identifier": published["identifier"], "sent": sent}])
            self._outbox(act, alert)
            act.record(KIND, "child found: missing-child alert stopped", why,
                       details={"state": "found", "identifier": published["identifier"]})
            return {"case_id": case_id, "identifier": published["identifier"], "state": "found"}

    def _alert(self, identifier: str, now: datetime, child: MissingChild, refs: list | None = None):
        return EmergencyAlertIssued(
            identifier=identifier, sender=self.sender, sent=now.replace(microsecond=0), status="Actual",
            msg_type="Update" if refs else "Alert", scope="Restricted", references=refs or [],
            categories=["Rescue"], event="Missing child", urgency="Immediate", severity="Severe",
            certainty="Observed", missing_child=child)


# -- HTTP (added to the case desk app) -----------------------------------------------------------------
MISSING_DESK = web.AppKey("missing_child_desk", MissingChildDesk)


async def _publish(request: web.Request) -> web.Response:
    import asyncio

    from consumers.cases.api import _body, _token

    body = await _body(request)
    desk = request.app[MISSING_DESK]
    args = {k: body.get(k) for k in ("last_seen_at", "age", "description", "lat", "lon", "school_id")}
    if args["school_id"] is not None and not isinstance(args["school_id"], str):
        raise InvalidCaseInput([FieldError("school_id", "must be a string", type(args["school_id"]).__name__)])
    if args["description"] is not None and not isinstance(args["description"], str):
        raise InvalidCaseInput([FieldError("description", "must be a string", type(args["description"]).__name__)])
    result = await asyncio.to_thread(desk.publish, _token(request), request.match_info["case_id"], **args)
    return web.json_response(result)


async def _found(request: web.Request) -> web.Response:
    import asyncio

    from consumers.cases.api import _body, _field, _token

    body = await _body(request)
    desk = request.app[MISSING_DESK]
    result = await asyncio.to_thread(desk.found, _token(request), request.match_info["case_id"],
                                     _field(body, "reason", ""))
    return web.json_response(result)


def add_routes(app: web.Application, desk: MissingChildDesk) -> web.Application:
    """``POST /cases/{id}/missing-child`` {last_seen_at, age, description, lat+lon | school_id} and
    ``POST /cases/{id}/missing-child/found`` {reason}."""
    app[MISSING_DESK] = desk
    app.add_routes([web.post("/cases/{case_id}/missing-child", _publish),
                    web.post("/cases/{case_id}/missing-child/found", _found)])
    return app
