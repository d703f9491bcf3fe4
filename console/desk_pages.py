"""The agency duty desk's and the supervisor's pages: the case queue and the case page with its actions.

Every read and action is a call into the desk (`consumers.cases.actions.CaseDesk`) with the session's
token, so the desk's authentication, role checks, unit scoping and standing, state machine and audit
apply as they do over the desk API. Which actions a unit may take comes from the desk too
(`CaseDesk.allowed_actions`); the console only hides the ones the case's state does not allow yet.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from urllib.parse import urlencode

from aiohttp import web
from sqlalchemy import select

from console import i18n
from console.forms import missing_child_args
from console.web import CONSOLE, IDENTITY, TOKEN, lang_of, render
from consumers.cases import missing_child
from consumers.cases.access import Principal, Role, scoped_cases
from consumers.cases.errors import IllegalTransition, InvalidCaseInput, ReferralError
from consumers.cases.models import MandatoryReportCase
from consumers.cases.states import NEXT, REFERRAL_NEXT, CaseState, ReferralState
from consumers.store.core import Agency

FILTERS = ("state", "risk", "category")


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def queue_rows(cases: list[dict], now: datetime, lang: str, breaches_first: bool) -> list[dict]:
    """Each case with its nearest open deadline, a countdown, breach and escalation marks; nearest first."""
    rows = []
    for case in cases:
        duties, breaches = case.get("open_duties", []), case.get("breaches", [])  # a redacted listing has no clocks
        due = min((_when(d["due_at"]) for d in duties), default=None)
        breached = bool(breaches) or (due is not None and due < now)
        escalated = max((d["escalation_level"] for d in breaches + duties), default=0)
        if due is None:
            countdown = i18n.word("due.none", lang)
        elif due >= now:
            countdown = i18n.word("due.in", lang, m=i18n.span((due - now).total_seconds(), lang))
        else:
            countdown = i18n.word("due.over", lang, m=i18n.span((now - due).total_seconds(), lang))
        rows.append({**case, "due": due, "breached": breached, "escalated": escalated, "countdown": countdown})
    far = datetime.max.replace(tzinfo=now.tzinfo)
    rows.sort(key=lambda r: ((not r["breached"]) if breaches_first else False, r["due"] or far, r["case_id"]))
    return rows


def _queue(request: web.Request) -> tuple[list[dict], dict]:
    console, identity = request.app[CONSOLE], request[IDENTITY]
    chosen = {f: request.query.get(f, "") for f in FILTERS}
    cases = console.desk.list_cases(request[TOKEN], chosen["state"] or None)
    cases = [c for c in cases if (not chosen["risk"] or c["risk"] == chosen["risk"])
             and (not chosen["category"] or c["category"] == chosen["category"])]
    supervisor = identity.principal.role == Role.SUPERVISOR
    return queue_rows(cases, console.clock.now(), lang_of(request), breaches_first=supervisor), chosen


async def queue(request: web.Request) -> web.Response:
    rows, chosen = await asyncio.to_thread(_queue, request)
    query = urlencode({f: v for f, v in chosen.items() if v})  # the filters, not `done`, for the refresh
    return render(request, "queue.html", rows=rows, chosen=chosen, states=[s.value for s in CaseState],
                  query=query, flash=i18n.word("a.done", lang_of(request)) if request.query.get("done") else "")


async def queue_fragment(request: web.Request) -> web.Response:
    rows, _ = await asyncio.to_thread(_queue, request)
    return render(request, "queue_rows.html", rows=rows)


def buttons(may: frozenset[str], unit_id: str, case: dict) -> dict:
    """Which buttons to show: the actions the desk's access rules allow this unit on this case
    (`CaseDesk.allowed_actions`, i.e. `consumers.cases.access.allowed_actions`), each only where the state
    machine allows it from the case's state now. The desk enforces both again on every action."""
    state = CaseState(case["state"])
    open_ = state != CaseState.CLOSED
    mine = next((a for a in case.get("agencies", ()) if a.get("agency_id") == unit_id and a.get("via") == "routing"),
                None)
    acts = {
        "acknowledge": "acknowledge" in may and open_ and mine is not None and mine["acknowledged_at"] is None,
        "assign": "assign" in may and open_ and (CaseState.INVESTIGATING in NEXT[state]
                                       or state in (CaseState.INVESTIGATING, CaseState.SERVICES)),
        "note": "note" in may,
        "services": "services" in may and CaseState.SERVICES in NEXT[state],
        "refer": "refer" in may and open_,
        "close": "close" in may and CaseState.CLOSED in NEXT[state],
        "reopen": "reopen" in may and state == CaseState.CLOSED,
        "reporter": "reporter" in may,
    }
    answers = {}
    if "answer_referral" in may:
        for r in case.get("referrals", ()):  # the referral view lists only the unit's own, without naming it
            if r.get("to_agency_id", unit_id) == unit_id:
                answers[r["id"]] = [d for d, target in (("accept", ReferralState.ACCEPTED), ("reject", ReferralState.REJECTED),
                                                        ("complete", ReferralState.COMPLETED))
                                    if target in REFERRAL_NEXT[ReferralState(r["state"])]]
    acts["answers"] = {rid: ds for rid, ds in answers.items() if ds}
    alerts = [e["details"].get("state") for e in case.get("events", ()) if e["kind"] == missing_child.KIND]
    out = bool(alerts) and alerts[-1] == "published"
    acts["missing"] = "missing_child" in may and case.get("category") in missing_child.CATEGORIES and not out
    acts["found"] = "missing_child" in may and out
    return acts


def _case_page(request: web.Request, reporter: dict | None = None) -> dict:
    console, identity = request.app[CONSOLE], request[IDENTITY]
    case_id = request.match_info["case_id"]
    case = console.desk.view_case(request[TOKEN], case_id)
    acts = buttons(console.desk.allowed_actions(request[TOKEN], case_id), identity.principal.unit_id, case)
    agencies = []
    if acts["refer"]:
        with console.factory() as session:
            agencies = [(a.id, a.name) for a in session.scalars(select(Agency).order_by(Agency.id))
                        if a.id != identity.principal.unit_id]
    return {"case": case, "acts": acts, "agencies": agencies, "reporter": reporter}


async def case_page(request: web.Request, status: int = 200, flash: str = "", reporter: dict | None = None,
                    failed: bool = False):
    ctx = await asyncio.to_thread(_case_page, request, reporter)
    return render(request, "case.html", status=status, flash=flash, failed=failed, **ctx)


async def show_reporter(request: web.Request) -> web.Response:
    """The reporter's identity, only on an explicit request; the desk audits the read."""
    console = request.app[CONSOLE]
    reporter = await asyncio.to_thread(console.desk.reporter, request[TOKEN], request.match_info["case_id"])
    return await case_page(request, reporter=reporter)


# action name → (desk method, form fields passed after the case id)
ACTIONS = {
    "acknowledge": ("acknowledge", ()), "assign": ("assign", ("assignee",)), "note": ("note", ("text",)),
    "services": ("start_services", ("service",)), "refer": ("refer", ("to_agency_id", "reason")),
    "close": ("close", ("outcome",)), "reopen": ("reopen", ("reason",)),
}


def _in_scope(console, principal: Principal, case_id: str) -> bool:
    """Whether the unit still sees the case (the desk's own scope; asking is not a read, so not audited)."""
    with console.factory() as session:
        return session.execute(scoped_cases(principal).where(MandatoryReportCase.case_id == case_id)).first() is not None


async def act(request: web.Request) -> web.Response:
    console, token = request.app[CONSOLE], request[TOKEN]
    case_id, action = request.match_info["case_id"], request.match_info["action"]
    form = await request.post()
    if action == "answer":
        referral = str(form.get("referral_id", ""))
        if not (referral.isascii() and referral.isdecimal()):
            raise web.HTTPUnprocessableEntity(text="referral_id: a referral number")
        call = (console.desk.answer_referral, token, case_id, int(referral), str(form.get("decision", "")),
                str(form.get("reason", "")))
    elif action == "missing":
        call = (partial(console.missing.publish, **missing_child_args(form)), token, case_id)
    elif action == "found":
        call = (console.missing.found, token, case_id, str(form.get("reason", "")))
    elif action in ACTIONS:
        method, fields = ACTIONS[action]
        call = (getattr(console.desk, method), token, case_id, *(str(form.get(f, "")) for f in fields))
    else:
        raise web.HTTPNotFound()
    try:
        await asyncio.to_thread(*call)
    except (IllegalTransition, ReferralError, InvalidCaseInput) as exc:  # shown on the case page, beside the actions
        lang = lang_of(request)
        key, status = ("err.422", 422) if isinstance(exc, InvalidCaseInput) else ("err.409", 409)
        return await case_page(request, status=status, flash=i18n.word(key, lang, msg=str(exc)), failed=True)
    if not await asyncio.to_thread(_in_scope, console, request[IDENTITY].principal, case_id):
        raise web.HTTPSeeOther(f"/queue?done={action}")  # e.g. completing a referral ended the unit's access
    raise web.HTTPSeeOther(f"/cases/{case_id}?done={action}")


async def case_view(request: web.Request) -> web.Response:
    done = request.query.get("done", "")
    return await case_page(request, flash=i18n.word("a.done", lang_of(request)) if done else "")


def routes() -> list:
    return [web.get("/queue", queue), web.get("/queue/rows", queue_fragment),
            web.get("/cases/{case_id}", case_view), web.post("/cases/{case_id}/reporter", show_reporter),
            web.post("/cases/{case_id}/act/{action}", act)]
