"""Bytes ⇄ events, with errors that name the field, what was expected and what came."""

from __future__ import annotations

from functools import cache
from typing import Annotated

from pydantic import Field, TypeAdapter, ValidationError

from contracts.envelope import CloudEvent
from contracts.errors import ContractError, FieldError
from contracts.events import ALL_EVENTS
from contracts.sealed import PLAIN_TAG, SEALED_TAG
from contracts.topics import TopicSpec

_BY_TYPE = {e.TYPE: e for e in ALL_EVENTS}
_GOT_LIMIT = 80


@cache
def _adapter(events: tuple[type[CloudEvent], ...]) -> TypeAdapter:
    if len(events) == 1:
        return TypeAdapter(events[0])
    return TypeAdapter(Annotated[events, Field(discriminator="type")])  # type: ignore[arg-type]


def _got(value: object) -> str | None:
    if isinstance(value, (dict, list)):
        return None
    text = repr(value)
    return text if len(text) <= _GOT_LIMIT else text[: _GOT_LIMIT - 1] + "…"


def _type_error(type_value: object, events: tuple[type[CloudEvent], ...]) -> FieldError:
    expected = ", ".join(e.TYPE for e in events)
    if isinstance(type_value, str):
        stem = type_value.rsplit(".v", 1)[0]
        if any(e.TYPE.rsplit(".v", 1)[0] == stem for e in events):
            return FieldError("type", f"unsupported schema version; this topic accepts {expected}", _got(type_value))
    return FieldError("type", f"unknown event type; this topic accepts {expected}", _got(type_value))


def field_errors(exc: ValidationError, events: tuple[type[CloudEvent], ...] = ()) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = [str(p) for p in err["loc"]]
        if err["type"] == "json_invalid":
            errors.append(FieldError("(body)", f"not valid JSON: {err['ctx'].get('error', '')}".rstrip(": ")))
            continue
        if err["type"] == "model_type" and not loc:
            errors.append(FieldError("(body)", "must be a JSON object", _got(err.get("input"))))
            continue
        if loc and loc[0] == "type" and err["type"] == "literal_error":
            errors.append(_type_error(err.get("input"), events))
            continue
        if err["type"] in ("union_tag_invalid", "union_tag_not_found") and not loc:
            errors.append(_type_error(err.get("ctx", {}).get("tag"), events) if err["type"] == "union_tag_invalid"
                          else FieldError("type", "missing: every event names its type"))
            continue
        if loc and loc[0] in _BY_TYPE:
            loc = loc[1:]
        loc = [p for p in loc if p not in (PLAIN_TAG, SEALED_TAG)]  # a sealable field's branch is not a field
        if err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            errors.append(FieldError(".".join(loc), f"unknown {ctx.get('discriminator', 'kind')}; expected one of "
                                     f"{ctx.get('expected_tags')}", _got(ctx.get("tag"))))
            continue
        got = None if err["type"] == "missing" else _got(err.get("input"))
        reason = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
        errors.append(FieldError(".".join(loc) or "(body)", reason, got))
    return errors


def decode(raw: bytes | str, accepts: TopicSpec | type[CloudEvent]) -> CloudEvent:
    """Parse and validate one message for a topic (or one event type); raises ContractError per bad field."""
    events = accepts.events if isinstance(accepts, TopicSpec) else (accepts,)
    try:
        return _adapter(events).validate_json(raw)
    except ValidationError as exc:
        raise ContractError(field_errors(exc, events)) from None
