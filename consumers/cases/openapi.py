"""OpenAPI 3.1 description of the case desk API, read off the app's own routes.

Each POST handler made by ``api._call`` names the body fields it reads; they become a pydantic model,
whose JSON Schema is the request schema. So a route added to ``build_app`` is described without
anyone remembering to, and a test checks both directions (tests/unit/test_desk_openapi.py).
"""

from __future__ import annotations

import re

from aiohttp import web
from pydantic import Field, create_model

REF = "#/components/schemas/{model}"
ERROR = {"type": "object", "required": ["error", "message", "fields"], "properties": {
    "error": {"type": "string"}, "message": {"type": "string"},
    "fields": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["field", "reason"],
        "properties": {"field": {"type": "string", "minLength": 1}, "reason": {"type": "string"},
                       "got": {"type": ["string", "null"]}}}}}}
REFUSALS = {"401": "no, unknown, revoked or expired token", "403": "your role may not do this",
            "404": "no such case in your unit's scope", "409": "not allowed in the case's state",
            "413": "body too large", "422": "a field is missing or wrong"}
_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


def _body_model(name: str, fields: tuple[str, ...], defaults: dict):
    spec = {f: (str, Field(default=defaults[f], max_length=4000) if f in defaults else Field(max_length=4000))
            for f in fields}
    return create_model(name, **spec)


def desk_openapi(app: web.Application) -> dict:
    paths: dict = {}
    schemas: dict = {"Error": ERROR}
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        info = route.resource.get_info()
        raw = info.get("path") or info.get("formatter")
        path = _PARAM.sub(r"{\1}", raw)
        params = [{"name": name, "in": "path", "required": True,
                   "schema": {"type": "integer", "minimum": 0} if name == "referral_id" else
                   {"type": "string", "minLength": 1, "maxLength": 64}} for name in _PARAM.findall(raw)]
        op_id = (route.method.lower() + path.replace("/", "_").replace("{", "").replace("}", "")).rstrip("_")
        op: dict = {"operationId": op_id, "parameters": params,
                    "responses": {"200": {"description": "done", "content": {"application/json": {"schema": {}}}},
                                  **{c: {"description": why, "content": {"application/json": {
                                      "schema": {"$ref": REF.format(model="Error")}}}} for c, why in REFUSALS.items()}}}
        if path == "/openapi.json":
            op = {"operationId": "openapi", "responses": {"200": {"description": "this description"}}}
        else:
            op["security"] = [{"bearer": []}]
        if path == "/cases":
            op["parameters"] = [{"name": "state", "in": "query", "required": False, "schema": {"type": "string"}},
                                {"name": "breached", "in": "query", "required": False, "schema": {"type": "string"}}]
        fields = getattr(route.handler, "fields", None)
        if route.method == "POST" and fields is not None:
            model = _body_model("".join(p.title() for p in re.split(r"[_/{}]+", op_id) if p) + "Body", fields,
                                getattr(route.handler, "defaults", {}))
            schemas[model.__name__] = model.model_json_schema(ref_template=REF)
            op["requestBody"] = {"required": False, "content": {"application/json": {
                "schema": {"$ref": REF.format(model=model.__name__)}}}}
        paths.setdefault(path, {})[route.method.lower()] = op
    return {"openapi": "3.1.0",
            "info": {"title": "ChildSafe case desk", "version": "1",
                     "description": "Mandatory-report cases for duty desks; see docs/cases.md and docs/security.md"},
            "paths": paths,
            "components": {"schemas": schemas, "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}


async def serve_openapi(request: web.Request) -> web.Response:
    return web.json_response(desk_openapi(request.app))
