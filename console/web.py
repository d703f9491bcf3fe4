"""The console's web plumbing: services, templates, the session and CSRF middleware, security headers."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import TYPE_CHECKING

import jinja2
from aiohttp import web
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from console import i18n
from console.intake import IntakeClient
from console.sessions import Identity, SignIn
from consumers.cases.actions import CaseDesk
from consumers.cases.api import STATUS
from consumers.cases.errors import CaseError
from consumers.cases.missing_child import MissingChildDesk
from contracts.clock import Clock

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from console.emergency import EmergencyDesk

COOKIE = "cs_session"
PRE_COOKIE = "cs_pre"  # double-submit CSRF for the sign-in form (before there is a session)
LANG_COOKIE = "cs_lang"
OPEN_PATHS = ("/signin", "/static/", "/lang/", "/health", "/public/", "/my")  # /public, /my: no account


@dataclass(frozen=True)
class CodePolicy:
    """Guardians' confirmation codes (console/guardians.py): how long one lives, how many a number and a client
    address may ask for within ``window``, wrong tries before a code is dead, how long the signed-in page lasts."""

    ttl: timedelta = timedelta(minutes=10)
    per_number: int = 3
    per_client: int = 10
    window: timedelta = timedelta(hours=1)
    max_attempts: int = 5
    session: timedelta = timedelta(minutes=30)


@dataclass
class Console:
    """Everything the pages need, built by the composition root (ops/bootstrap.build_console)."""

    factory: sessionmaker[Session]
    clock: Clock
    desk: CaseDesk
    signin: SignIn
    intake: IntakeClient
    missing: MissingChildDesk  # police publish / stop a missing-child alert from a case (the case outbox)
    guardian_codes: CodePolicy  # the guardians' self-service sign-in codes
    secure_cookies: bool = False
    acknowledge_minutes: float = 60
    emergency: EmergencyDesk | None = None  # the emergency manager's pages (console/emergency.py)
    recall_topics: tuple[str, str] = ("", "")  # (holdings, alerts requested): console/recalls.py, console/guardians.py
    code_gateway: object | None = None  # the SMS gateway (alerts.gateway) that sends guardians' confirmation codes
    drill_period_days: int = 180  # a school is overdue for an evacuation drill after this (the indicators)


CONSOLE = web.AppKey("console", Console)
IDENTITY = web.RequestKey("identity", Identity)
TOKEN = web.RequestKey("token", str)

TEMPLATES = jinja2.Environment(
    loader=jinja2.PackageLoader("console", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True, lstrip_blocks=True,
)
TEMPLATES.globals.update(i18n=i18n, situations=i18n.SITUATIONS)


def lang_of(request: web.Request) -> str:
    lang = request.cookies.get(LANG_COOKIE, "zh-CN")
    return lang if lang in i18n.LANGS else "zh-CN"


def render(request: web.Request, template: str, status: int = 200, **ctx) -> web.Response:
    lang = lang_of(request)
    identity: Identity | None = request.get(IDENTITY)
    html = TEMPLATES.get_template(template).render(
        lang=lang, t=lambda key, **kw: i18n.word(key, lang, **kw), me=identity, path=request.path_qs,
        now=request.app[CONSOLE].clock.now(), **ctx)
    return web.Response(text=html, content_type="text/html", charset="utf-8", status=status)


def is_htmx(request: web.Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def redirect(request: web.Request, location: str) -> web.Response:
    """303 for a plain form post; htmx follows HX-Redirect (a swapped 303 would nest a page in a page)."""
    if is_htmx(request):
        return web.Response(status=204, headers={"HX-Redirect": location})
    raise web.HTTPSeeOther(location)


def set_cookie(response: web.StreamResponse, console: Console, name: str, value: str, max_age: int | None) -> None:
    response.set_cookie(name, value, max_age=max_age, path="/", httponly=True, samesite="Strict",
                        secure=console.secure_cookies)


def csrf_ok(supplied: str | None, expected: str) -> bool:
    return bool(supplied) and hmac.compare_digest(supplied.encode(), expected.encode())


def refuse_csrf(request: web.Request) -> web.Response:
    return render(request, "message.html", status=403, message=i18n.word("err.csrf", lang_of(request)))


@web.middleware
async def sessions(request: web.Request, handler):
    """Who is signed in (via the desk's token check); everything but sign-in needs someone, and a CSRF token."""
    console = request.app[CONSOLE]
    if request.path.startswith(OPEN_PATHS):
        return await handler(request)
    cookie = request.cookies.get(COOKIE)
    identity = await asyncio.to_thread(console.signin.resolve, cookie)
    if identity is None:
        target = "/signin?expired=1" if cookie else "/signin"
        response = (web.Response(status=401, headers={"HX-Redirect": target}) if is_htmx(request)
                    else web.HTTPSeeOther(target))
        response.del_cookie(COOKIE, path="/")
        if isinstance(response, web.HTTPException):
            raise response
        return response
    request[IDENTITY], request[TOKEN] = identity, cookie
    if request.method == "POST":
        form = await request.post()
        if not csrf_ok(form.get("csrf") or request.headers.get("X-CSRF-Token"), identity.csrf):
            return refuse_csrf(request)
    return await handler(request)


@web.middleware
async def case_errors(request: web.Request, handler):
    """A refusal from the desk (403 role, 404 scope, 409 state, 422 field) is a page with that status, never a 500."""
    try:
        return await handler(request)
    except CaseError as exc:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        lang = lang_of(request)
        message = (i18n.word("err.409", lang, msg=str(exc)) if status == 409 else
                   i18n.word("err.422", lang, msg=str(exc)) if status == 422 else
                   i18n.word(f"err.{status}", lang) if status in (403, 404) else str(exc))
        if status == 401:
            raise web.HTTPSeeOther("/signin?expired=1") from None
        return render(request, "message.html", status=status, message=message)


READ_ATTEMPTS = 3  # a page read that lost a lock race to a worker is run again this many times in all


@web.middleware
async def database_unavailable(request: web.Request, handler):
    """The database aborted the request's transaction (a deadlock or serialization failure it resolved against a
    worker, or the database is down): a read is run again (its transaction rolled back, so nothing happened
    twice); one still failing, or a form post, is a 503 page saying to try again, never a bare 500."""
    attempts = READ_ATTEMPTS if request.method in ("GET", "HEAD") else 1
    for attempt in range(1, attempts + 1):
        try:
            return await handler(request)
        except OperationalError as exc:
            log.warning("database unavailable for %s (attempt %d of %d): %s", request.path, attempt, attempts,
                        type(exc.orig).__name__)
            if attempt < attempts:
                await asyncio.sleep(0.05 * attempt)
    return render(request, "message.html", status=503, message=i18n.word("err.503", lang_of(request)))


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    response.headers.setdefault("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    if request.path.startswith(("/static/",)):
        return response
    response.headers.setdefault("Cache-Control", "no-store")
    if isinstance(response, web.HTTPException):
        raise response
    return response


def static_root() -> str:
    return str(resources.files("console").joinpath("static"))


def new_key() -> str:
    return secrets.token_hex(16)


def utcnow(request: web.Request) -> datetime:
    return request.app[CONSOLE].clock.now()
