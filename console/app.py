"""The console's aiohttp application: sign-in, language, and the officer's and duty desk's pages."""

from __future__ import annotations

import asyncio
import secrets

from aiohttp import web

from console import desk_pages, emergency, guardians, indicators, officer, public, recalls
from console.errors import SignInRefused
from console.web import (
    CONSOLE,
    COOKIE,
    IDENTITY,
    LANG_COOKIE,
    PRE_COOKIE,
    Console,
    case_errors,
    csrf_ok,
    database_unavailable,
    lang_of,
    refuse_csrf,
    render,
    security_headers,
    sessions,
    set_cookie,
    static_root,
)
from consumers.cases.access import Role


async def signin_form(request: web.Request) -> web.Response:
    # keep an existing pre-session token: a browser may fetch this page more than once (prefetch, a second tab)
    pre = request.cookies.get(PRE_COOKIE, "")
    if len(pre) < 32:
        pre = secrets.token_urlsafe(24)
    response = render(request, "signin.html", pre=pre, error="", expired=request.query.get("expired") == "1",
                      username="")
    set_cookie(response, request.app[CONSOLE], PRE_COOKIE, pre, max_age=3600)
    return response


async def signin(request: web.Request) -> web.Response:
    console = request.app[CONSOLE]
    form = await request.post()
    if not csrf_ok(form.get("csrf"), request.cookies.get(PRE_COOKIE, "")):
        return refuse_csrf(request)
    username, password = str(form.get("username", ""))[:200], str(form.get("password", ""))[:1000]
    try:
        cookie, identity = await asyncio.to_thread(console.signin.sign_in, username, password)
    except SignInRefused as exc:
        lang = lang_of(request)
        from console.i18n import word

        error = (word("signin.throttled", lang, minutes=max(1, exc.retry_after_s // 60)) if exc.reason == "throttled"
                 else word("signin.refused", lang))
        pre = secrets.token_urlsafe(24)
        response = render(request, "signin.html", status=429 if exc.reason == "throttled" else 401, pre=pre,
                          error=error, expired=False, username=username)
        set_cookie(response, console, PRE_COOKIE, pre, max_age=3600)
        return response
    response = web.HTTPSeeOther("/")
    set_cookie(response, console, COOKIE, cookie, max_age=None)  # a browser-session cookie; the server ends it too
    response.del_cookie(PRE_COOKIE, path="/")
    raise response


async def signout(request: web.Request) -> web.Response:
    await asyncio.to_thread(request.app[CONSOLE].signin.sign_out, request[IDENTITY])
    response = web.HTTPSeeOther("/signin")
    response.del_cookie(COOKIE, path="/")
    raise response


async def home(request: web.Request) -> web.Response:
    role = request[IDENTITY].principal.role
    if role in (Role.INDICATORS_PROVINCE, Role.INDICATORS_CITY):
        raise web.HTTPSeeOther("/indicators")
    raise web.HTTPSeeOther("/reports" if role == Role.SCHOOL_OFFICER else
                           "/emergency" if role == Role.EMERGENCY_MANAGER else "/queue")


async def switch_language(request: web.Request) -> web.Response:
    """A POST (a link could be prefetched by the browser and switch the language unasked); harmless, so no CSRF."""
    lang = request.match_info["lang"]
    target = str((await request.post()).get("next", "/"))
    if not target.startswith("/") or target.startswith("//"):
        target = "/"
    response = web.HTTPSeeOther(target)
    if lang in ("zh-CN", "en"):
        set_cookie(response, request.app[CONSOLE], LANG_COOKIE, lang, max_age=365 * 86400)
    raise response


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(console: Console) -> web.Application:
    app = web.Application(middlewares=[security_headers, database_unavailable, sessions, case_errors], client_max_size=256 * 1024)
    app[CONSOLE] = console
    app.add_routes([
        web.get("/signin", signin_form), web.post("/signin", signin), web.post("/signout", signout),
        web.post("/lang/{lang}", switch_language), web.get("/health", health), web.get("/", home),
        *officer.routes(), *desk_pages.routes(), *emergency.routes(), *indicators.routes(), *recalls.routes(), *public.routes(), *guardians.routes(),
        web.static("/static", static_root()),
    ])
    return app
