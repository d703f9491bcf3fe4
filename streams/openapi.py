"""OpenAPI 3.1 description of the HTTP intake, built from the routes and their pydantic contracts.

Served at ``/openapi.json``; a test checks it against the routes the app registers, and Schemathesis
fuzzes every operation from it (tests/unit/test_intake_openapi.py).
"""

from __future__ import annotations

from functools import lru_cache

from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"
ERROR = {"type": "object", "required": ["error", "errors"], "properties": {
    "error": {"type": "string"},
    "errors": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["field", "reason"],
        "properties": {"field": {"type": "string", "minLength": 1}, "reason": {"type": "string"},
                       "got": {"type": ["string", "null"]}}}}}}
ACCEPTED = {"type": "object", "required": ["id", "topic", "partition", "offset"], "properties": {
    "id": {"type": "string"}, "topic": {"type": "string"}, "partition": {"type": "integer"},
    "offset": {"type": "integer"}}}
REFUSALS = {"400": "body not JSON/UTF-8, or a bad Idempotency-Key", "401": "no valid bearer token",
            "403": "the token may not post here, or not as this sender", "409": "Idempotency-Key used with another body",
            "413": "body larger than the limit", "415": "not JSON (or CAP XML for emergency alerts), or not UTF-8",
            "422": "a field breaks the contract", "503": "Kafka did not take the write; retry with the same key"}


def error_responses(codes: dict[str, str]) -> dict:
    return {code: {"description": why, "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
            for code, why in codes.items()}


@lru_cache(maxsize=1)
def intake_openapi() -> dict:
    from streams.intake import ROUTES

    models = [(m, "validation") for r in ROUTES for m in (r.payload, r.event)]
    _, schemas = models_json_schema(models, ref_template=REF)
    components = {**schemas.get("$defs", {}), "Error": ERROR, "Accepted": ACCEPTED}
    paths: dict = {}
    for route in ROUTES:
        body = {"oneOf": [{"$ref": REF.format(model=route.payload.__name__)},
                          {"$ref": REF.format(model=route.event.__name__)}]}
        content = {"application/json": {"schema": body}}
        if route.name == "emergency-alerts":
            content["application/cap+xml"] = {"schema": {"type": "string", "description": "a CAP 1.2 alert"}}
        paths[route.path] = {"post": {
            "operationId": f"post_{route.name.replace('-', '_')}",
            "summary": f"submit one {route.payload.__name__} (bare payload or full CloudEvent)",
            "security": [{"bearer": []}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "required": False, "schema": {
                "type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$"}}],
            "requestBody": {"required": True, "content": content},
            "responses": {"202": {"description": "on Kafka (acks=all)",
                                  "content": {"application/json": {"schema": {"$ref": REF.format(model="Accepted")}}}},
                          **error_responses(REFUSALS)}}}
    paths["/v1/recalls/published"] = {"get": {
        "operationId": "published_recalls", "summary": "the public disclosure feed, newest first (no token)",
        "parameters": [{"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                       {"name": "per_page", "in": "query", "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
        "responses": {"200": {"description": "one page of published recalls"},
                      **error_responses({"422": "page or per_page out of range"})}}}
    paths["/health"] = {"get": {"operationId": "health", "summary": "whether a Kafka broker answers right now",
                                "responses": {"200": {"description": "Kafka reachable"},
                                              "503": {"description": "Kafka unreachable"}}}}
    paths["/openapi.json"] = {"get": {"operationId": "openapi", "summary": "this description",
                                      "responses": {"200": {"description": "OpenAPI 3.1"}}}}
    return {"openapi": "3.1.0",
            "info": {"title": "ChildSafe intake", "version": "1",
                     "description": "Reports, recalls, safety reports and CAP alerts in; see docs/security.md#intake"},
            "paths": paths,
            "components": {"schemas": components,
                           "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}}}
