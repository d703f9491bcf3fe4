"""EmergencyAlertIssued → CAP 1.2 XML (the main info block, then one per translation), valid against the
OASIS schema."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from contracts.cap.schema import CAP_NS
from contracts.emergency import Area, EmergencyAlertIssued, MissingChild

MISSING_CHILD_PARAM = "childsafe:missing_child:"


def cap_time(value: datetime) -> str:
    """CAP dateTime: seconds precision, explicit offset, never 'Z' (CAP 1.2 §3.3.2)."""
    return value.replace(microsecond=0).isoformat()


def _num(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.1f}"


def _sub(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
    node = etree.SubElement(parent, f"{{{CAP_NS}}}{tag}")
    if text is not None:
        node.text = text
    return node


def _pair(parent: etree._Element, tag: str, name: str, value: str) -> None:
    node = _sub(parent, tag)
    _sub(node, "valueName", name)
    _sub(node, "value", value)


def _area(info: etree._Element, area: Area) -> None:
    node = _sub(info, "area")
    _sub(node, "areaDesc", area.area_desc)
    for polygon in area.polygons:
        _sub(node, "polygon", " ".join(f"{_num(p.lat)},{_num(p.lon)}" for p in polygon))
    for circle in area.circles:
        _sub(node, "circle", f"{_num(circle.center.lat)},{_num(circle.center.lon)} {_num(circle.radius_km)}")
    for code in area.geocodes:
        _pair(node, "geocode", code.name, code.value)


def _missing_child(info: etree._Element, child: MissingChild) -> None:
    values = {"last_seen_at": cap_time(child.last_seen_at), "lat": _num(child.last_seen.lat),
              "lon": _num(child.last_seen.lon), "age": str(child.age), "description": child.description,
              "found": "true" if child.found else "false"}
    for name, value in values.items():
        _pair(info, "parameter", MISSING_CHILD_PARAM + name, value)


def _address(text: str) -> str:
    return f'"{text}"' if " " in text else text


def _info(root: etree._Element, alert: EmergencyAlertIssued, language: str, texts: dict[str, str | None],
          event: str) -> None:
    """One info block, elements in the schema's order."""
    info = _sub(root, "info")
    _sub(info, "language", language)
    for category in alert.categories:
        _sub(info, "category", category.value)
    _sub(info, "event", event)
    for response in alert.response_types:
        _sub(info, "responseType", response.value)
    _sub(info, "urgency", alert.urgency.value)
    _sub(info, "severity", alert.severity.value)
    _sub(info, "certainty", alert.certainty.value)
    for code in alert.event_codes:
        _pair(info, "eventCode", code.name, code.value)
    for tag in ("effective", "onset", "expires"):
        if getattr(alert, tag) is not None:
            _sub(info, tag, cap_time(getattr(alert, tag)))
    for tag, value in texts.items():
        if value is not None:
            _sub(info, tag, value)
    if alert.missing_child is not None:
        _missing_child(info, alert.missing_child)
    for area in alert.areas:
        _area(info, area)


def to_cap(alert: EmergencyAlertIssued) -> bytes:
    """The alert as CAP 1.2 XML bytes (UTF-8, with declaration)."""
    root = etree.Element(f"{{{CAP_NS}}}alert", nsmap={None: CAP_NS})
    _sub(root, "identifier", alert.identifier)
    _sub(root, "sender", alert.sender)
    _sub(root, "sent", cap_time(alert.sent))
    _sub(root, "status", alert.status.value)
    _sub(root, "msgType", alert.msg_type.value)
    _sub(root, "scope", alert.scope.value)
    if alert.addresses:
        _sub(root, "addresses", " ".join(_address(a) for a in alert.addresses))
    if alert.references:
        _sub(root, "references", " ".join(f"{r.sender},{r.identifier},{cap_time(r.sent)}" for r in alert.references))
    _info(root, alert, alert.language, {"headline": alert.headline, "description": alert.description,
                                        "instruction": alert.instruction}, alert.event)
    for other in alert.translations:
        _info(root, alert, other.language, {"headline": other.headline, "instruction": other.instruction},
              other.event)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
