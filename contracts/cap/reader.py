"""CAP 1.2 XML → EmergencyAlertIssued: parsed safely, validated against the OASIS schema, then mapped.

An alert with several info blocks is mapped from the zh-CN one (else the first); every other block's wording
(event, headline, instruction) is kept in ``translations`` so each recipient gets their own language.
Every ``<geocode>`` and ``<eventCode>`` is kept, in order, even when a name repeats.
"""

from __future__ import annotations

import shlex
from datetime import datetime

from lxml import etree
from pydantic import ValidationError

from contracts.cap.safe_xml import DEFAULT_MAX_BYTES, CapRejected, parse_untrusted
from contracts.cap.schema import CAP_NS, validate_cap
from contracts.cap.writer import MISSING_CHILD_PARAM
from contracts.emergency import EmergencyAlertIssued
from contracts.errors import FieldError

_NS = {"cap": CAP_NS}


def _text(node: etree._Element, tag: str) -> str | None:
    found = node.find(f"cap:{tag}", _NS)
    return found.text.strip() if found is not None and found.text is not None else None


def _texts(node: etree._Element, tag: str) -> list[str]:
    return [n.text.strip() for n in node.findall(f"cap:{tag}", _NS) if n.text]


def _pairs(node: etree._Element, tag: str) -> dict[str, str]:
    return {(_text(p, "valueName") or ""): (_text(p, "value") or "") for p in node.findall(f"cap:{tag}", _NS)}


def _pair_list(node: etree._Element, tag: str) -> list[dict[str, str]]:
    return [{"name": _text(p, "valueName") or "", "value": _text(p, "value") or ""}
            for p in node.findall(f"cap:{tag}", _NS)]


def _point(text: str) -> dict[str, float]:
    lat, lon = text.split(",")
    return {"lat": float(lat), "lon": float(lon)}


def _area(node: etree._Element) -> dict:
    circles = []
    for text in _texts(node, "circle"):
        center, radius = text.split()
        circles.append({"center": _point(center), "radius_km": float(radius)})
    return {"area_desc": _text(node, "areaDesc"), "circles": circles, "geocodes": _pair_list(node, "geocode"),
            "polygons": [[_point(p) for p in text.split()] for text in _texts(node, "polygon")]}


def _references(text: str | None) -> list[dict]:
    refs = []
    for triple in (text or "").split():
        sender, identifier, sent = triple.split(",", 2)
        refs.append({"sender": sender, "identifier": identifier, "sent": datetime.fromisoformat(sent)})
    return refs


def _missing_child(params: dict[str, str]) -> dict | None:
    mine = {k.removeprefix(MISSING_CHILD_PARAM): v for k, v in params.items() if k.startswith(MISSING_CHILD_PARAM)}
    if not mine:
        return None
    return {"last_seen_at": mine.get("last_seen_at"), "age": mine.get("age"), "description": mine.get("description"),
            "last_seen": {"lat": mine.get("lat"), "lon": mine.get("lon")}, "found": mine.get("found") == "true"}


def _info(root: etree._Element) -> tuple[etree._Element, list[etree._Element]]:
    """The main info block (zh-CN, else the first) and the others."""
    infos = root.findall("cap:info", _NS)
    if not infos:
        raise CapRejected([FieldError("alert.info", "at least one info block is required to alert anyone")])
    main = next((i for i in infos if (_text(i, "language") or "en-US") == "zh-CN"), infos[0])
    return main, [i for i in infos if i is not main]


def _translations(main_language: str, others: list[etree._Element]) -> list[dict]:
    """One wording per other language (the first block of each), never a second one of the main language."""
    seen, out = {main_language}, []
    for info in others:
        language = _text(info, "language") or "en-US"
        if language not in seen:
            seen.add(language)
            out.append({"language": language, "event": _text(info, "event"), "headline": _text(info, "headline"),
                        "instruction": _text(info, "instruction")})
    return out


def from_cap(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> EmergencyAlertIssued:
    """Raises CapRejected (a ContractError) naming the element at fault; never fetches anything."""
    root = parse_untrusted(raw, max_bytes)
    validate_cap(root)
    info, others = _info(root)
    try:
        fields = {
            "identifier": _text(root, "identifier"), "sender": _text(root, "sender"), "sent": _text(root, "sent"),
            "status": _text(root, "status"), "msg_type": _text(root, "msgType"), "scope": _text(root, "scope"),
            "addresses": shlex.split(_text(root, "addresses") or ""),
            "references": _references(_text(root, "references")),
            "language": _text(info, "language") or "en-US",
            "categories": _texts(info, "category"), "event": _text(info, "event"),
            "urgency": _text(info, "urgency"), "severity": _text(info, "severity"),
            "certainty": _text(info, "certainty"), "response_types": _texts(info, "responseType"),
            "headline": _text(info, "headline"), "description": _text(info, "description"),
            "instruction": _text(info, "instruction"), "expires": _text(info, "expires"),
            "effective": _text(info, "effective"), "onset": _text(info, "onset"),
            "event_codes": _pair_list(info, "eventCode"),
            "translations": _translations(_text(info, "language") or "en-US", others),
            "areas": [_area(a) for a in info.findall("cap:area", _NS)],
            "missing_child": _missing_child(_pairs(info, "parameter")),
        }
    except ValueError as exc:  # malformed references, polygon or circle text the schema lets through
        raise CapRejected([FieldError("alert", f"malformed CAP value: {exc}")]) from None
    try:
        return EmergencyAlertIssued.model_validate(fields)
    except ValidationError as exc:
        from contracts.codec import field_errors

        raise CapRejected(field_errors(exc)) from None
