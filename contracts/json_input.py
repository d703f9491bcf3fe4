"""Untrusted JSON bytes → Python values, or a ContractError naming what is wrong (never a crash).

`json.loads` alone crashes on hostile input: deep nesting raises RecursionError, a 5,000-digit
number raises ValueError, `1e999` becomes infinity, and bytes are guessed as UTF-16/32. Every
HTTP door (intake, case desk) parses bodies through `parse_json` instead.
"""

from __future__ import annotations

import json

from contracts.errors import ContractError, FieldError

MAX_DEPTH = 64  # no contract nests deeper than a handful of levels
MAX_NUMBER_CHARS = 40  # no contract field needs more digits than this
JSON_TYPES = ("application/json", "application/cloudevents+json")


def _number(parse):
    def checked(text: str):
        if len(text) > MAX_NUMBER_CHARS:
            raise ContractError([FieldError("(body)", f"a number longer than {MAX_NUMBER_CHARS} characters",
                                            f"{len(text)} characters")])
        value = parse(text)
        if value in (float("inf"), float("-inf")):
            raise ContractError([FieldError("(body)", "a number out of range", text[:MAX_NUMBER_CHARS])])
        return value
    return checked


def _no_constant(name: str):
    raise ContractError([FieldError("(body)", "NaN and Infinity are not JSON numbers", name)])


def _depth(value: object) -> int:
    """Nesting depth, iteratively (a recursive walk would be the crash it guards against)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_DEPTH:
                return deepest
            stack.extend((child, level + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def check_charset(content_type: str | None, field: str = "Content-Type") -> None:
    """JSON is UTF-8 (RFC 8259); a declared charset other than UTF-8 is refused, not guessed."""
    for param in (content_type or "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            raise ContractError([FieldError(field, "charset must be utf-8", value.strip()[:40])])


def check_json_type(content_type: str | None, field: str = "Content-Type") -> None:
    """The media type must be JSON (absent is taken as JSON, as curl without -H sends form data rarely)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind and kind not in JSON_TYPES and not kind.endswith("+json"):
        raise ContractError([FieldError(field, "must be application/json", kind[:60])])
    check_charset(content_type, field)


def parse_json(raw: bytes, field: str = "(body)") -> object:
    """Strict UTF-8 JSON with bounded depth and number size; ContractError names `field` otherwise."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError([FieldError(field, f"not valid UTF-8 at byte {exc.start}")]) from None
    try:
        value = json.loads(text, parse_int=_number(int), parse_float=_number(float), parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ContractError([FieldError(field, f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]) \
            from None
    except RecursionError:
        raise ContractError([FieldError(field, f"nested deeper than {MAX_DEPTH} levels")]) from None
    except ContractError as exc:
        raise ContractError([FieldError(field, e.reason, e.got) for e in exc.errors]) from None
    if _depth(value) > MAX_DEPTH:
        raise ContractError([FieldError(field, f"nested deeper than {MAX_DEPTH} levels")])
    return value
