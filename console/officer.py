"""The school safety officer's pages: report an incident, file a campus safety report, see what became of each."""

from __future__ import annotations

import asyncio
import re

from aiohttp import web
from multidict import MultiDict

from console import i18n, submissions
from console.forms import CHILD_ROWS, ITEM_ROWS, FormError, incident_payload, intake_errors, safety_payload, validate
from console.web import CONSOLE, IDENTITY, TOKEN, lang_of, new_key, redirect, render
from consumers.cases.access import Role
from consumers.cases.errors import Forbidden
from consumers.store.core import School
from consumers.store.db import transaction
from contracts.classify import classify
from contracts.incident import IncidentReported
from contracts.safety import SafetyReportFiled

KEY = re.compile(r"^[A-Za-z0-9_-]{8,100}$")


def _school(request: web.Request) -> School:
    identity = request[IDENTITY]
    if identity.principal.role != Role.SCHOOL_OFFICER:
        raise Forbidden(f"role {identity.principal.role.value!r} may not report for a school; allowed: school_officer")
    with request.app[CONSOLE].factory() as session:
        school = session.get(School, identity.principal.unit_id)
    if school is None:
        raise Forbidden(f"unit {identity.principal.unit_id!r} is not a school")
    return school


def _by_field(errors: list[FormError]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in errors:
        out.setdefault(e.field, []).append(e.reason)
    return out


def preview_of(model: IncidentReported | None, lang: str, ack_minutes: float) -> dict:
    """Whether this report opens a mandatory report and who is told: triage's own rules, before sending."""
    if model is None:
        return {"ready": False}
    triage = classify(model)
    return {"ready": True, "mandatory": triage.mandatory,
            "situations": "、".join(i18n.pick(i18n.SITUATIONS[int(s)][0], lang) for s in triage.situations),
            "agencies": "、".join(i18n.label(i18n.AGENCY, a.value, lang) for a in triage.agencies),
            "notices": "、".join(dict.fromkeys(i18n.label(i18n.AUDIENCE, n.audience, lang) for n in triage.notices)),
            "ack": int(ack_minutes), "high_risk": triage.risk.value == "high"}


def _incident(request: web.Request, form, school: School):
    payload, rows = incident_payload(form, school.id, school.district_code, request[IDENTITY].display_name)
    model, errors = validate(IncidentReported, payload, rows, lang_of(request))
    return payload, rows, model, errors


async def report_form(request: web.Request) -> web.Response:
    await asyncio.to_thread(_school, request)
    now = request.app[CONSOLE].clock.now().astimezone(i18n.ZONE)
    return render(request, "report.html", form=MultiDict(occurred_at=f"{now:%Y-%m-%dT%H:%M}"), key=new_key(), errors={}, notice="",
                  preview={"ready": False}, child_rows=CHILD_ROWS)


async def report_preview(request: web.Request) -> web.Response:
    school = await asyncio.to_thread(_school, request)
    _, _, model, _ = _incident(request, await request.post(), school)
    return render(request, "preview.html",
                  preview=preview_of(model, lang_of(request), request.app[CONSOLE].acknowledge_minutes))


async def _send(request: web.Request, kind: str, path: str, form, key: str, payload: dict, rows: dict,
                category: str, mandatory: bool) -> list[FormError] | str:
    """Send to the intake; returns the event id, or the refused fields, or "" when it could not be sent."""
    console = request.app[CONSOLE]
    answer = await console.intake.send(path, payload, key)
    if answer.status == "refused":
        return intake_errors(answer.errors, rows, lang_of(request))
    if answer.status != "accepted":
        return ""
    identity = request[IDENTITY]

    def remember() -> None:
        with transaction(console.factory) as session:
            submissions.record(session, idempotency_key=key, kind=kind, school_id=identity.principal.unit_id,
                               user_id=identity.user_id, category=category, mandatory=mandatory,
                               event_id=answer.event_id, submitted_at=console.clock.now())
    await asyncio.to_thread(remember)
    return answer.event_id


async def report_submit(request: web.Request) -> web.Response:
    school = await asyncio.to_thread(_school, request)
    form = await request.post()
    key = str(form.get("idempotency_key", ""))
    lang = lang_of(request)
    payload, rows, model, errors = _incident(request, form, school)
    if not KEY.match(key):
        errors.append(FormError("(form)", i18n.word("err.csrf", lang)))
    preview = preview_of(model, lang, request.app[CONSOLE].acknowledge_minutes)
    if not errors:
        outcome = await _send(request, "incident", "/v1/incidents", form, key, model.model_dump(mode="json"), rows,
                              model.category.value, preview["mandatory"])
        if isinstance(outcome, str) and outcome:
            return redirect(request, f"/reports?sent={outcome}")
        if outcome == "":
            return render(request, "report.html", status=503, form=form, key=key, errors={},
                          notice=i18n.word("send.failed", lang), preview=preview, child_rows=CHILD_ROWS)
        errors = outcome
    return render(request, "report.html", status=422, form=form, key=key if KEY.match(key) else new_key(),
                  errors=_by_field(errors), notice=i18n.word("form.errors", lang, n=len(errors)), preview=preview,
                  child_rows=CHILD_ROWS)


async def safety_form(request: web.Request) -> web.Response:
    await asyncio.to_thread(_school, request)
    return render(request, "safety.html", form=MultiDict(kind="inspection"), key=new_key(), errors={}, notice="",
                  item_rows=ITEM_ROWS)


async def safety_submit(request: web.Request) -> web.Response:
    school = await asyncio.to_thread(_school, request)
    form = await request.post()
    key = str(form.get("idempotency_key", ""))
    lang = lang_of(request)
    payload, rows = safety_payload(form, school.id, school.district_code, request.app[CONSOLE].clock.now())
    model, errors = validate(SafetyReportFiled, payload, rows, lang)
    if not KEY.match(key):
        errors.append(FormError("(form)", i18n.word("err.csrf", lang)))
    if not errors:
        outcome = await _send(request, "safety", "/v1/safety-reports", form, key, model.model_dump(mode="json"),
                              rows, model.body.kind, False)
        if isinstance(outcome, str) and outcome:
            return redirect(request, f"/reports?sent={outcome}")
        if outcome == "":
            return render(request, "safety.html", status=503, form=form, key=key, errors={},
                          notice=i18n.word("send.failed", lang), item_rows=ITEM_ROWS)
        errors = outcome
    return render(request, "safety.html", status=422, form=form, key=key if KEY.match(key) else new_key(),
                  errors=_by_field(errors), notice=i18n.word("form.errors", lang, n=len(errors)), item_rows=ITEM_ROWS)


def _fates(request: web.Request) -> list[dict]:
    """Each of the school's reports with what became of it, through the desk's school view (redacted: which
    kinds of agency were told and acknowledged, never which agency, nothing an agency wrote)."""
    console, identity, token = request.app[CONSOLE], request[IDENTITY], request[TOKEN]
    with console.factory() as session:
        sent = submissions.of_school(session, identity.principal.unit_id)
    cases = {c["report_id"]: c for c in console.desk.list_cases(token)}
    lang = lang_of(request)
    out = []
    for s in sent:
        case = cases.get(s.event_id)
        fate = {"submission": s, "case": case, "told": "", "acked": ""}
        if case is not None:
            told = console.desk.view_case(token, case["case_id"])["agencies"]
            fate["told"] = "、".join(i18n.label(i18n.AGENCY, a["kind"], lang) for a in told if a["told"])
            fate["acked"] = "、".join(i18n.label(i18n.AGENCY, a["kind"], lang) for a in told if a["acknowledged"])
        out.append(fate)
    return out


async def my_reports(request: web.Request) -> web.Response:
    await asyncio.to_thread(_school, request)
    fates = await asyncio.to_thread(_fates, request)
    return render(request, "reports.html", fates=fates, sent=request.query.get("sent", ""))


def routes() -> list:
    return [web.get("/report", report_form), web.post("/report/preview", report_preview),
            web.post("/report", report_submit), web.get("/safety", safety_form), web.post("/safety", safety_submit),
            web.get("/reports", my_reports)]
