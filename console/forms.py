"""The officer's forms ⇄ the intake contracts: form fields become a payload, refusals come back per field.

Validation is the contract's own (the same pydantic models the HTTP intake validates with), so the
form can say which field is wrong, in Chinese, before anything is sent; the intake validates again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from multidict import MultiMapping
from pydantic import BaseModel, ValidationError

from console.i18n import ZONE, field_reason

CHILD_ROWS = 3
ITEM_ROWS = 3
FORM = "(form)"


@dataclass(frozen=True)
class FormError:
    field: str  # the form field's name, or "(form)"
    reason: str


def _text(form: MultiMapping, name: str) -> str:
    return (form.get(name) or "").strip()


def _local_datetime(value: str) -> str | datetime:
    """A datetime-local value is Beijing time; anything unparseable is passed on for the contract to refuse."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return moment if moment.tzinfo else moment.replace(tzinfo=ZONE)


def missing_child_args(form: MultiMapping) -> dict:
    """The missing-child desk's arguments from the case page's form: last seen (Beijing time), age, description,
    and a place (lat/lon) only when not at the case's school; the desk checks every field."""
    when = _local_datetime(_text(form, "last_seen_at"))
    return {"last_seen_at": when.isoformat() if isinstance(when, datetime) else when, "age": _text(form, "age"),
            "description": _text(form, "description"), "lat": _text(form, "lat") or None,
            "lon": _text(form, "lon") or None}


def incident_payload(form: MultiMapping, school_id: str, district_code: str, reporter_name: str) -> tuple[dict, dict]:
    """(payload, child row of each list index): blank child rows are skipped."""
    payload: dict = {"school_id": school_id, "district_code": district_code,
                     "location": _text(form, "location"), "category": _text(form, "category"),
                     "severity": _text(form, "severity"), "description": _text(form, "description"),
                     "child_in_danger_now": form.get("child_in_danger_now") == "on",
                     "mandatory_situations": [],
                     "reporter": {"role": "school_safety_officer", "unit_id": school_id,
                                  "name": reporter_name[:200] or None, "confidential": True}}
    if when := _text(form, "occurred_at"):
        payload["occurred_at"] = _local_datetime(when)
    situations = []
    for raw in form.getall("situation", []):
        situations.append(int(raw) if raw.isdecimal() else raw)
    payload["mandatory_situations"] = situations
    children, rows = [], {}
    for row in range(CHILD_ROWS):
        age, sex = _text(form, f"child-{row}-age"), _text(form, f"child-{row}-sex") or "unknown"
        injured = form.get(f"child-{row}-injured") == "on"
        if not age and sex == "unknown" and not injured:
            continue
        rows[len(children)] = row
        children.append({"age": age, "sex": sex, "injured": injured})
    payload["children"] = children
    return payload, rows


def safety_payload(form: MultiMapping, school_id: str, district_code: str, now: datetime) -> tuple[dict, dict]:
    body: dict
    rows: dict = {}
    if _text(form, "kind") == "drill":
        body = {"kind": "drill", "drill_kind": _text(form, "drill_kind"), "held_on": _text(form, "held_on"),
                "participants": _text(form, "participants")}
        if seconds := _text(form, "evacuation_seconds"):
            body["evacuation_seconds"] = seconds
    else:
        items = []
        for row in range(ITEM_ROWS):
            item = _text(form, f"item-{row}-item")
            if not item:
                continue
            rows[len(items)] = row
            entry = {"area": _text(form, f"item-{row}-area"), "item": item,
                     "result": _text(form, f"item-{row}-result"), "critical": form.get(f"item-{row}-critical") == "on"}
            if note := _text(form, f"item-{row}-note"):
                entry["note"] = note
            items.append(entry)
        body = {"kind": "inspection", "items": items}
    return {"school_id": school_id, "district_code": district_code, "filed_at": now, "inspector_unit": school_id,
            "body": body}, rows


def form_field(loc: tuple, rows: dict) -> str:
    """A contract error location → the form field it came from."""
    head = loc[0] if loc else FORM
    if head == "children" and len(loc) >= 3 and isinstance(loc[1], int):
        return f"child-{rows.get(loc[1], loc[1])}-{loc[2]}"
    if head == "children":
        return "children"
    if head == "mandatory_situations":
        return "situation"
    if head == "body":
        rest = [p for p in loc[1:] if p not in ("inspection", "drill", "food_safety_check")]
        if len(rest) >= 3 and rest[0] == "items" and isinstance(rest[1], int):
            return f"item-{rows.get(rest[1], rest[1])}-{rest[2]}"
        return str(rest[0]) if rest else "kind"
    if head in ("reporter", "school_id", "district_code", "inspector_unit", "filed_at"):
        return FORM
    return str(head)


def validate(model: type[BaseModel], payload: dict, rows: dict, lang: str) -> tuple[BaseModel | None, list[FormError]]:
    try:
        return model.model_validate(payload), []
    except ValidationError as exc:
        errors = [FormError(form_field(tuple(e["loc"]), rows), field_reason(e["type"], e.get("ctx"), e["msg"], lang))
                  for e in exc.errors()]
        return None, errors


def intake_errors(errors: list[dict], rows: dict, lang: str) -> list[FormError]:
    """The intake's 422 `errors` ([{field: "data.children.0.age", reason, got}]) → form fields."""
    out = []
    for e in errors:
        path = str(e.get("field", "")).removeprefix("data.")
        loc = tuple(int(p) if p.isdecimal() else p for p in path.split(".")) if path else ()
        out.append(FormError(form_field(loc, rows), field_reason("", None, str(e.get("reason", "")), lang)))
    return out

