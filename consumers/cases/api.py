"""HTTP endpoints for the case desk (aiohttp): token in `Authorization: Bearer …`, JSON in and out.

401 no/unknown token · 403 role may not · 404 not in your unit's scope · 409 illegal step · 422 bad field.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from consumers.cases.actions import CaseDesk
from consumers.cases.errors import (
    CaseError,
    CaseNotFound,
    Forbidden,
    IllegalTransition,
    InvalidCaseInput,
    NotAuthenticated,
    ReferralError,
)
from consumers.cases.openapi import serve_openapi
from contracts.errors import ContractError, FieldError
from contracts.json_input import check_json_type, parse_json

log = logging.getLogger(__name__)
DESK = web.AppKey("desk", CaseDesk)
STATUS = {NotAuthenticated: 401, Forbidden: 403, CaseNotFound: 404, IllegalTransition: 409, ReferralError: 409,
          InvalidCaseInput: 422}
# The field each refusal is about, for errors that carry no field list of their own (every 4xx names one).
FIELD = {NotAuthenticated: "Authorization", Forbidden: "Authorization", CaseNotFound: "case_id",
         IllegalTransition: "state", ReferralError: "referral_id"}


def _token(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header.lower().startswith("bearer ") else None


async def _body(request: web.Request) -> dict:
    if not request.can_read_body:
        return {}
    try:
        check_json_type(request.headers.get("Content-Type"))
        body = parse_json(await request.read())  # UTF-8 only, bounded depth and numbers (contracts/json_input.py)
    except ContractError as exc:
        raise InvalidCaseInput(exc.errors) from None
    if not isinstance(body, dict):
        raise InvalidCaseInput([FieldError("(body)", "must be a JSON object", type(body).__name__)])
    return body


def _field(body: dict, name: str, default: str | None = None) -> str:
    value = body.get(name, default)
    if value is None:
        raise InvalidCaseInput([FieldError(name, "required")])
    if not isinstance(value, str):
        raise InvalidCaseInput([FieldError(name, "must be a string", type(value).__name__)])
    return value


@web.middleware
async def errors_as_json(request: web.Request, handler):
    try:
        return await handler(request)
    except CaseError as exc:
        status = next((code for kind, code in STATUS.items() if isinstance(exc, kind)), 400)
        payload: dict = {"error": type(exc).__name__, "message": str(exc)}
        if isinstance(exc, InvalidCaseInput):
            payload["fields"] = [e.as_dict() for e in exc.errors]
        else:
            field = next((name for kind, name in FIELD.items() if isinstance(exc, kind)), "(request)")
            payload["fields"] = [FieldError(field, str(exc)).as_dict()]
        return web.json_response(payload, status=status)
    except web.HTTPRequestEntityTooLarge:
        return web.json_response({"error": "RequestEntityTooLarge", "message": "body too large",
                                  "fields": [FieldError("(body)", "at most 64 KiB").as_dict()]}, status=413)


def _call(method: str, *arg_names: str, defaults: dict | None = None):
    """A handler that reads the named body fields and runs the desk method off the event loop."""
    async def handler(request: web.Request) -> web.Response:  # fields/defaults: read by consumers/cases/openapi.py
        desk = request.app[DESK]
        body = await _body(request) if request.method == "POST" else {}
        args = [_field(body, n, (defaults or {}).get(n)) for n in arg_names]
        ids = [request.match_info[k] for k in ("case_id",) if k in request.match_info]
        if "referral_id" in request.match_info:
            ids.append(int(request.match_info["referral_id"]))
        result = await asyncio.to_thread(getattr(desk, method), _token(request), *ids, *args)
        return web.json_response(result)
    handler.fields, handler.defaults = arg_names, dict(defaults or {})  # type: ignore[attr-defined]
    return handler


async def list_cases(request: web.Request) -> web.Response:
    desk = request.app[DESK]
    state = request.query.get("state") or None
    breached = request.query.get("breached", "") in ("1", "true", "yes")
    return web.json_response(await asyncio.to_thread(desk.list_cases, _token(request), state, breached))


def build_app(desk: CaseDesk) -> web.Application:
    app = web.Application(middlewares=[errors_as_json], client_max_size=64 * 1024)
    app[DESK] = desk
    app.add_routes([
        web.get("/openapi.json", serve_openapi),
        web.get("/cases", list_cases),
        web.get("/cases/{case_id}", _call("view_case")),
        web.get("/cases/{case_id}/reporter", _call("reporter")),
        web.post("/cases/{case_id}/acknowledge", _call("acknowledge", "reason", defaults={"reason": ""})),
        web.post("/cases/{case_id}/assign", _call("assign", "assignee", "reason", defaults={"reason": ""})),
        web.post("/cases/{case_id}/notes", _call("note", "text")),
        web.post("/cases/{case_id}/services", _call("start_services", "service", "reason", defaults={"reason": ""})),
        web.post("/cases/{case_id}/referrals", _call("refer", "to_agency_id", "reason")),
        web.post(r"/cases/{case_id}/referrals/{referral_id:\d+}/answer",
                 _call("answer_referral", "decision", "reason", defaults={"reason": ""})),
        web.post("/cases/{case_id}/close", _call("close", "outcome", "reason", defaults={"reason": ""})),
        web.post("/cases/{case_id}/reopen", _call("reopen", "reason")),
    ])
    return app
