"""The emergency manager's pages (应急管理 / education bureau): compose an alert from the closed event vocabulary
for districts or circles, or upload a CAP 1.2 file; preview its audience and SMS; send it as CAP XML through
the HTTP intake (the one CAP path); update and cancel a running thread; see every running alert on one screen.

Exercise is a mode, never mixed with Actual in one thread; an Update or Cancel comes from the thread's sender
(the manager's unit) or one configured to act for it (CHILDSAFE_CAP_DELEGATES), as the intake checks again."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import quote

from aiohttp import web
from sqlalchemy import Engine, select

from alerts.body_rules import BodyRules
from console import delivery, emergency_words  # noqa: F401  (registers the pages' words)
from console.emergency_form import (
    EVENTS,
    MAX_CIRCLES,
    MAX_UPLOAD_BYTES,
    SEVERITIES,
    Circle,
    Composed,
    compose,
    known_districts,
    mixes_exercise,
    read_upload,
    say,
)
from console.emergency_threads import ConsoleAlertThread, ended, running
from console.forms import FormError
from console.i18n import word
from console.intake import IntakeAnswer
from console.web import CONSOLE, IDENTITY, lang_of, redirect, render
from consumers.cases.access import Role
from consumers.cases.errors import CaseNotFound, Forbidden
from consumers.sms.compose import AlertBodies
from consumers.sms.errors import ResendRefused, UnknownAlert
from consumers.sms.reminders import ReminderPolicy, resend_unacknowledged
from consumers.store.core import School
from consumers.store.db import transaction
from contracts.alert_request import AlertKind, AlertRequested, SchoolList
from contracts.cap import to_cap
from contracts.cap.sms import asks_acknowledgement, cap_alert_id, cap_params, cap_priority, thread_root
from contracts.emergency import CapMsgType, EmergencyAlertIssued

EARTH_KM = 6371.0088
PATH = "/v1/emergency-alerts"


@dataclass
class EmergencyDesk:
    """What the emergency pages need beyond the console's own services (built by ops/commands/console_cmd.py)."""

    engine: Engine
    delegates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    rules: BodyRules = field(default_factory=BodyRules)
    job_sink: Callable[[], object] | None = None  # the SMS jobs topic, for "resend to those who have not acknowledged"
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)  # the CLI's rules, same settings
    _sink: object = field(default=None, repr=False)

    def sink(self) -> object:
        """One producer for the console's lifetime, made on the first resend."""
        if self._sink is None and self.job_sink is not None:
            self._sink = self.job_sink()
        return self._sink


def _desk(request: web.Request) -> EmergencyDesk:
    desk = request.app[CONSOLE].emergency
    if desk is None:
        raise web.HTTPServiceUnavailable(text="emergency pages are not configured")
    return desk


def _manager(request: web.Request) -> str:
    """The signed-in emergency manager's CAP sender (their unit), or 403."""
    principal = request[IDENTITY].principal
    if principal.role != Role.EMERGENCY_MANAGER:
        raise Forbidden(f"role {principal.role.value!r} may not send emergency alerts; allowed: emergency_manager")
    return principal.unit_id


def may_act_for(sender: str, original: str, delegates: dict[str, tuple[str, ...]]) -> bool:
    """CAP Update/Cancel rule (streams/emergency/semantics.py): the thread's sender or one configured for it."""
    return sender == original or sender in delegates.get(original, ())


def _by_field(errors: list[FormError]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e.field, []).append(e.reason)
    return out


def schools_in(session, districts: list[str], circles: list[Circle]) -> list[str]:
    """Schools in the districts or within a circle (great-circle distance), as the streams atlas decides."""
    found: set[str] = set()
    if districts:
        found.update(session.scalars(select(School.id).where(School.district_code.in_(districts))))
    for c in circles:
        dlat = c.km / 111.0
        dlon = c.km / max(1e-6, 111.0 * math.cos(math.radians(c.lat)))
        near = session.execute(select(School.id, School.lat, School.lon).where(
            School.lat.between(c.lat - dlat, c.lat + dlat), School.lon.between(c.lon - dlon, c.lon + dlon))).all()
        for sid, lat, lon in near:
            p1, p2 = math.radians(c.lat), math.radians(lat)
            h = (math.sin((p2 - p1) / 2) ** 2
                 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon - c.lon) / 2) ** 2)
            if 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h))) <= c.km:
                found.add(sid)
    return sorted(found)


def _area_of(alert: EmergencyAlertIssued) -> tuple[list[str], list[Circle]]:
    districts = [g.value for a in alert.areas for g in a.geocodes if g.name.strip() in ("GB/T2260", "GB2260",
                                                                                         "GB/T 2260", "district",
                                                                                         "admin_code")]
    circles = [Circle(c.center.lat, c.center.lon, c.radius_km) for a in alert.areas for c in a.circles]
    return districts, circles


def preview(desk: EmergencyDesk, session, alert: EmergencyAlertIssued, districts: list[str],
            circles: list[Circle]) -> dict:
    """The audience count and the SMS bodies exactly as the fan-out will compose them (same alert id, same
    templates, 【演练】 for an exercise)."""
    schools = schools_in(session, districts, circles)
    request = AlertRequested(alert_id=cap_alert_id(thread_root(alert), alert.identifier, 0),
                             kind=AlertKind.CAP_EMERGENCY, priority=cap_priority(alert),
                             audience=SchoolList(school_ids=schools or ["-"]), params=cap_params(alert),
                             exercise=alert.is_exercise, guaranteed_reach=True, source_event_id="preview",
                             requires_ack=asks_acknowledgement(alert),
                             reason="console preview")
    bodies = AlertBodies(request, desk.rules)
    out = {"schools": len(schools), "recipients": delivery.audience_count(desk.engine, schools) if schools else 0,
           "bodies": [], "exercise": alert.is_exercise, "asks_ack": request.requires_ack}
    for lang in ("zh-CN", "en"):
        body, segments = bodies.body_for(lang, "+8619900000000")
        out["bodies"].append({"lang": lang, "body": body, "segments": segments, "chars": len(body)})
    return out


def _thread(session, key: str) -> ConsoleAlertThread:
    thread = session.scalar(select(ConsoleAlertThread).where(ConsoleAlertThread.identifier == key))
    if thread is None:
        raise CaseNotFound(f"alert {key[:80]!r} not found")
    return thread


async def _send(request: web.Request, alert: EmergencyAlertIssued) -> IntakeAnswer:
    """CAP 1.2 XML to the HTTP intake, as any CAP sender posts it (streams/cap_intake.py)."""
    key = "em-" + alert.identifier.encode().hex()[:90]
    return await request.app[CONSOLE].intake.send_bytes(PATH, to_cap(alert), "application/cap+xml", key)


def _intake_refusal(answer: IntakeAnswer, lang: str) -> list[FormError]:
    if answer.status == "unavailable":
        return [FormError("(form)", say(lang, f"预警受理服务暂不可用（{answer.detail}），未发送任何内容，请重试",
                                          f"the intake is unavailable ({answer.detail}); nothing was sent — try again"))]
    return [FormError("(form)", (say(lang, "受理服务拒绝：", "refused by the intake: ")
                                  + f"{e.get('field', '')}: {e.get('reason', '')}")[:300])
            for e in answer.errors]


def _record(session, alert: EmergencyAlertIssued, composed: Composed | None, user_id: int) -> ConsoleAlertThread:
    root = thread_root(alert)
    thread = session.get(ConsoleAlertThread, root)
    if thread is None:
        districts, circles = (composed.districts, composed.circles) if composed else _area_of(alert)
        code = composed.event_code if composed else next((k for k, v in EVENTS.items() if v.zh == alert.event), "cap")
        thread = ConsoleAlertThread(
            root=root, sender=alert.sender, identifier=alert.identifier, sent=alert.sent, exercise=alert.is_exercise,
            event=code, area_json=json.dumps({"districts": districts, "circles": [c.__dict__ for c in circles],
                                              "desc": alert.areas[0].area_desc if alert.areas else ""},
                                             ensure_ascii=False),
            created_by=user_id, state="running", messages=0, last_identifier=alert.identifier,
            last_sent=alert.sent, expires=alert.expires)
        session.add(thread)
    thread.messages += 1
    thread.last_identifier, thread.last_sent = alert.identifier, alert.sent
    if alert.msg_type is CapMsgType.CANCEL:
        thread.state = "cancelled"
    elif alert.expires is not None:
        thread.expires = alert.expires
    return thread


def _context(request: web.Request, **extra) -> dict:
    console = request.app[CONSOLE]
    with console.factory() as session:
        districts = known_districts(session)
    return {"events": EVENTS, "severities": [s.value for s in SEVERITIES], "districts": districts,
            "circle_rows": MAX_CIRCLES, "form": {}, "errors": {}, "preview": None, "cap_b64": "", **extra}


async def alerts_page(request: web.Request) -> web.Response:
    _manager(request)
    console = request.app[CONSOLE]
    now = console.clock.now()
    with console.factory() as session:
        now_running, finished = running(session, now), ended(session, now)
    rows = [(t, await asyncio.to_thread(delivery.delivery, _desk(request).engine, t.root, lang_of(request)))
            for t in now_running]
    return render(request, "emergency_list.html", rows=rows, ended=finished, events=EVENTS,
                  flash=request.query.get("flash", "")[:200])


async def compose_page(request: web.Request) -> web.Response:
    _manager(request)
    return render(request, "emergency_compose.html", **_context(request, form={"mode": "exercise"}))


async def compose_post(request: web.Request) -> web.Response:
    """``action=preview`` answers the preview (htmx swaps it in); ``action=send`` sends it."""
    sender = _manager(request)
    console, desk, lang = request.app[CONSOLE], _desk(request), lang_of(request)
    form = await request.post()
    with console.factory() as session:
        composed = compose(form, sender=sender, now=console.clock.now(), districts_known=known_districts(session),
                           lang=lang)
        shown = None if composed.errors else await asyncio.to_thread(preview, desk, session, composed.alert,
                                                                     composed.districts, composed.circles)
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    values["districts"] = [d for d in form.getall("districts", []) if isinstance(d, str)]
    if composed.errors:
        return render(request, "emergency_compose.html", status=422,
                      **_context(request, form=values, errors=_by_field(composed.errors)))
    if form.get("action") != "send":
        return render(request, "emergency_compose.html", **_context(request, form=values, preview=shown))
    if shown["schools"] == 0:
        return render(request, "emergency_compose.html", status=422, **_context(
            request, form=values, preview=shown, errors={"(form)": [say(lang, "此范围内没有学校：不会通知任何人",
                                                                        "no school in this area: nobody would be told")]}))
    answer = await _send(request, composed.alert)
    if answer.status != "accepted":
        return render(request, "emergency_compose.html", status=503 if answer.status == "unavailable" else 422,
                      **_context(request, form=values, preview=shown, errors=_by_field(_intake_refusal(answer, lang))))
    with transaction(console.factory) as session:
        _record(session, composed.alert, composed, request[IDENTITY].user_id)
    return redirect(request, f"/emergency/alerts/{quote(composed.alert.identifier, safe='')}")


async def upload_post(request: web.Request) -> web.Response:
    """An uploaded CAP 1.2 file: checked as the intake checks it, then sent unchanged."""
    sender = _manager(request)
    console, desk, lang = request.app[CONSOLE], _desk(request), lang_of(request)
    form = await request.post()
    upload, kept = form.get("cap_file"), form.get("cap_b64")
    if isinstance(kept, str) and kept and form.get("action") == "send":  # the file previewed, carried in the form
        try:
            raw = base64.b64decode(kept.encode("ascii"), validate=True)
        except (ValueError, UnicodeEncodeError):
            raw = b""
    else:
        raw = upload.file.read(MAX_UPLOAD_BYTES + 1) if hasattr(upload, "file") else str(upload or "").encode()
    alert, errors = read_upload(raw, sender=sender, now=console.clock.now(), lang=lang)
    thread = None
    if alert is not None:
        with console.factory() as session:
            thread = session.get(ConsoleAlertThread, thread_root(alert))
        if alert.msg_type is not CapMsgType.ALERT and thread is None:
            errors.append(FormError("cap_file", say(lang, "引用的预警不是在本平台发布的", "references: not a thread started from this console")))
        elif (mixed := mixes_exercise(alert, thread, lang)) is not None:
            errors.append(mixed)
        elif thread is not None and not may_act_for(sender, thread.sender, desk.delegates):
            errors.append(FormError("cap_file", say(
                lang, f"只有发布单位 {thread.sender!r}（或其授权单位）可以更新或取消此预警",
                f"only {thread.sender!r} (or one configured to act for it) may update or cancel this thread")))
        elif thread is not None and thread.state == "cancelled":
            errors.append(FormError("cap_file", say(lang, "此预警已取消", "this thread was cancelled")))
    if errors:
        return render(request, "emergency_compose.html", status=422,
                      **_context(request, form={"mode": "exercise"}, errors=_by_field(errors)))
    districts, circles = _area_of(alert)
    with console.factory() as session:
        shown = await asyncio.to_thread(preview, desk, session, alert, districts, circles)
    if form.get("action") != "send":
        return render(request, "emergency_compose.html", **_context(
            request, form={"mode": "exercise"}, preview=shown, cap_b64=base64.b64encode(raw).decode()))
    answer = await _send(request, alert)
    if answer.status != "accepted":
        return render(request, "emergency_compose.html", status=503 if answer.status == "unavailable" else 422,
                      **_context(request, form={"mode": "exercise"}, preview=shown,
                                 errors=_by_field(_intake_refusal(answer, lang))))
    with transaction(console.factory) as session:
        thread = _record(session, alert, None, request[IDENTITY].user_id)
        key = thread.identifier
    return redirect(request, f"/emergency/alerts/{quote(key, safe='')}")


def _thread_view(request: web.Request, thread: ConsoleAlertThread, **extra) -> web.Response:
    desk, lang = _desk(request), lang_of(request)
    counts = delivery.delivery(desk.engine, thread.root, lang)
    sender = request[IDENTITY].principal.unit_id
    return render(request, "emergency_alert.html", thread=thread, area=json.loads(thread.area_json), counts=counts,
                  events=EVENTS, severities=[s.value for s in SEVERITIES],
                  may_change=may_act_for(sender, thread.sender, desk.delegates) and thread.state == "running",
                  form=extra.pop("form", {"mode": "exercise" if thread.exercise else "actual"}),
                  errors=extra.pop("errors", {}), flash=request.query.get("flash", "")[:200], **extra)


async def alert_page(request: web.Request) -> web.Response:
    _manager(request)
    with request.app[CONSOLE].factory() as session:
        thread = _thread(session, request.match_info["key"])
    return await asyncio.to_thread(_thread_view, request, thread)


async def counts_partial(request: web.Request) -> web.Response:
    _manager(request)
    with request.app[CONSOLE].factory() as session:
        thread = _thread(session, request.match_info["key"])
    counts = await asyncio.to_thread(delivery.delivery, _desk(request).engine, thread.root, lang_of(request))
    return render(request, "delivery_counts.html", thread=thread, counts=counts)


async def timeline_json(request: web.Request) -> web.Response:
    _manager(request)
    with request.app[CONSOLE].factory() as session:
        thread = _thread(session, request.match_info["key"])
    return web.json_response(await asyncio.to_thread(delivery.timeline, _desk(request).engine, thread.root))


async def delivery_csv(request: web.Request) -> web.Response:
    _manager(request)
    with request.app[CONSOLE].factory() as session:
        thread = _thread(session, request.match_info["key"])
    text = await asyncio.to_thread(delivery.csv_rows, _desk(request).engine, thread.root, lang_of(request))
    return web.Response(body=("\ufeff" + text).encode(), content_type="text/csv", charset="utf-8", headers={
        "Content-Disposition": f'attachment; filename="delivery-{re.sub(r"[^A-Za-z0-9_.-]", "_", thread.identifier)[:60]}.csv"'})


async def change_post(request: web.Request) -> web.Response:
    """Update or cancel the thread: same event and area, the thread's mode, references to its messages."""
    sender = _manager(request)
    console, desk, lang = request.app[CONSOLE], _desk(request), lang_of(request)
    msg_type = CapMsgType.CANCEL if request.match_info["what"] == "cancel" else CapMsgType.UPDATE
    form = await request.post()
    with console.factory() as session:
        thread = _thread(session, request.match_info["key"])
    if not may_act_for(sender, thread.sender, desk.delegates):
        raise Forbidden(f"only {thread.sender!r} (or one configured to act for it in CHILDSAFE_CAP_DELEGATES) may "
                        f"{msg_type.value.lower()} this alert")
    if thread.state != "running":
        return await asyncio.to_thread(_thread_view, request, thread, errors={"(form)": [say(lang, "此预警已取消", "this alert was cancelled")]})
    composed = compose(form, sender=sender, now=console.clock.now(), districts_known=[], lang=lang, thread=thread,
                       msg_type=msg_type)
    if composed.errors:
        view = await asyncio.to_thread(_thread_view, request, thread, errors=_by_field(composed.errors),
                                       form={k: v for k, v in form.items() if isinstance(v, str)})
        view.set_status(422)
        return view
    answer = await _send(request, composed.alert)
    if answer.status != "accepted":
        view = await asyncio.to_thread(_thread_view, request, thread, errors=_by_field(_intake_refusal(answer, lang)))
        view.set_status(503 if answer.status == "unavailable" else 422)
        return view
    with transaction(console.factory) as session:
        _record(session, composed.alert, composed, request[IDENTITY].user_id)
    done = "emergency.cancelled" if msg_type is CapMsgType.CANCEL else "emergency.updated"
    return redirect(request, f"/emergency/alerts/{quote(thread.identifier, safe='')}?flash="
                             f"{quote(word(done, lang))}")


async def resend_post(request: web.Request) -> web.Response:
    """A reminder round to those who have not acknowledged, by the CLI's rules (consumers/sms/reminders.py): each
    of the thread's alert requests in turn, with the thread's mode (exercise or actual) as the mode meant; when
    none could be resent, the first refusal says why (409)."""
    _manager(request)
    console, desk, lang = request.app[CONSOLE], _desk(request), lang_of(request)
    with console.factory() as session:
        thread = _thread(session, request.match_info["key"])
    if thread.state == "cancelled":  # the console knows before the SMS side has recorded the cancellation
        view = await asyncio.to_thread(_thread_view, request, thread, errors={"resend": [say(
            lang, "不能补发：此预警已取消，未发送任何内容", "cannot resend: this alert's thread was cancelled; nothing was resent")]})
        view.set_status(409)
        return view
    if desk.job_sink is None:
        raise web.HTTPServiceUnavailable(text="no SMS jobs topic configured")
    ids = await asyncio.to_thread(delivery.thread_alert_ids, desk.engine, thread.root)
    reminded, refusals = 0, []
    sink = await asyncio.to_thread(desk.sink)
    for alert_id in ids:
        try:
            result = await asyncio.to_thread(resend_unacknowledged, desk.engine, sink, console.clock, alert_id,
                                             None, desk.rules, desk.reminders, thread.exercise)
            reminded += result.reminded
        except (UnknownAlert, ResendRefused) as exc:
            refusals.append(str(exc))
    if not ids or (refusals and not reminded):
        reason = say(lang, "不能补发：", "cannot resend: ") + (refusals[0] if refusals else say(
            lang, "此预警还没有发出短信", "no SMS has gone out for this alert yet"))
        view = await asyncio.to_thread(_thread_view, request, thread, errors={"resend": [reason]})
        view.set_status(409)
        return view
    return redirect(request, f"/emergency/alerts/{quote(thread.identifier, safe='')}?flash="
                             f"{quote(word('emergency.reminded', lang, n=reminded))}")


def routes() -> list[web.RouteDef]:
    return [web.get("/emergency", alerts_page), web.get("/emergency/new", compose_page),
            web.post("/emergency/new", compose_post), web.post("/emergency/upload", upload_post),
            web.get("/emergency/alerts/{key}", alert_page),
            web.get("/emergency/alerts/{key}/counts", counts_partial),
            web.get("/emergency/alerts/{key}/timeline.json", timeline_json),
            web.get("/emergency/alerts/{key}/delivery.csv", delivery_csv),
            web.post("/emergency/alerts/{key}/resend", resend_post),
            web.post("/emergency/alerts/{key}/{what:update|cancel}", change_post)]

