"""The emergency manager's compose form ⇄ a CAP 1.2 alert: the closed event vocabulary, areas as districts or
circles, an uploaded CAP file, and every refusal named by its form field (before anything is sent)."""

from __future__ import annotations

import json
import math
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from multidict import MultiMapping
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from console.forms import FORM, FormError
from console.i18n import ZONE, field_reason
from consumers.store.core import School
from contracts.cap import CapRejected, from_cap
from contracts.cap.sms import cap_params
from contracts.emergency import (
    Area,
    CapCategory,
    CapCertainty,
    CapMsgType,
    CapReference,
    CapSeverity,
    CapStatus,
    CapUrgency,
    EmergencyAlertIssued,
    InfoText,
)
from contracts.errors import ContractError

DISTRICT_GEOCODE = "GB/T2260"  # a geocode name the school atlas reads as a GB/T 2260 division (streams/emergency/geo.py)
MAX_CIRCLES = 3
MAX_UPLOAD_BYTES = 128 * 1024
IDENTIFIER = re.compile(r"[A-Za-z0-9_.:@-]{1,200}")  # a page address and a file name can carry it as is


@dataclass(frozen=True)
class EventKind:
    zh: str
    en: str
    category: CapCategory
    instruction_zh: str
    instruction_en: str


EVENTS: dict[str, EventKind] = {  # the closed vocabulary an emergency manager picks from
    "rainstorm": EventKind("暴雨", "Rainstorm", CapCategory.MET, "学生留校或居家，不要外出", "Keep pupils indoors"),
    "typhoon": EventKind("台风", "Typhoon", CapCategory.MET, "停止户外活动，留在室内", "Stop outdoor activity, stay indoors"),
    "flood": EventKind("洪水", "Flood", CapCategory.MET, "远离河道，按指引转移", "Keep away from rivers, move as directed"),
    "earthquake": EventKind("地震", "Earthquake", CapCategory.GEO, "按演练路线疏散到空旷处", "Evacuate to open ground by the drill route"),
    "landslide": EventKind("山体滑坡", "Landslide", CapCategory.GEO, "远离山坡，按指引转移", "Keep away from slopes, move as directed"),
    "heat": EventKind("高温", "Extreme heat", CapCategory.MET, "停止户外活动，注意防暑", "Stop outdoor activity, avoid the heat"),
    "cold": EventKind("寒潮", "Cold wave", CapCategory.MET, "注意保暖，上下学注意安全", "Keep warm, take care on the way to school"),
    "fire": EventKind("火灾", "Fire", CapCategory.FIRE, "远离火场，按指引疏散", "Keep away from the fire, evacuate as directed"),
    "chemical": EventKind("危险化学品泄漏", "Hazardous chemical leak", CapCategory.CBRNE, "关闭门窗，留在室内",
                          "Close doors and windows, stay indoors"),
    "air": EventKind("重污染天气", "Heavy air pollution", CapCategory.ENV, "停止户外活动", "Stop outdoor activity"),
    "epidemic": EventKind("传染病疫情", "Infectious disease outbreak", CapCategory.HEALTH, "按学校通知做好防护",
                          "Follow the school's health instructions"),
    "school_closure": EventKind("停课", "School closed", CapCategory.SAFETY, "学生居家，等待学校通知",
                                "Pupils stay at home until the school says otherwise"),
}
SEVERITIES = (CapSeverity.EXTREME, CapSeverity.SEVERE, CapSeverity.MODERATE, CapSeverity.MINOR)
MODES = {"exercise": CapStatus.EXERCISE, "actual": CapStatus.ACTUAL}


@dataclass(frozen=True)
class Circle:
    lat: float
    lon: float
    km: float


@dataclass
class Composed:
    """A form that passed: the CAP alert to send, and where it goes (for the audience count)."""

    alert: EmergencyAlertIssued | None = None
    districts: list[str] = field(default_factory=list)
    circles: list[Circle] = field(default_factory=list)
    event_code: str = ""
    errors: list[FormError] = field(default_factory=list)


def _text(form: MultiMapping, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def known_districts(session: Session) -> list[str]:
    """The districts the directory has schools in: the only ones an alert can name."""
    return sorted(c for c in session.scalars(select(School.district_code).distinct()) if c)


def say(lang: str, zh: str, en: str) -> str:
    """A refusal in the page's language (zh-CN by default)."""
    return en if lang == "en" else zh


def _number(raw: str, name: str, low: float, high: float, errors: list[FormError], what: tuple[str, str],
            lang: str) -> float | None:
    try:
        value = float(raw)
    except ValueError:
        errors.append(FormError(name, say(lang, f"{what[0]}：须为 {low:g} 到 {high:g} 之间的数",
                                          f"{what[1]}: a number from {low:g} to {high:g}")))
        return None
    if not math.isfinite(value) or not low <= value <= high:
        errors.append(FormError(name, say(lang, f"{what[0]}：须为 {low:g} 到 {high:g} 之间的数",
                                          f"{what[1]}: a number from {low:g} to {high:g}")))
        return None
    return value


def read_area(form: MultiMapping, districts_known: list[str],
              lang: str = "zh-CN") -> tuple[list[str], list[Circle], list[FormError]]:
    errors: list[FormError] = []
    kind = _text(form, "area_kind") or "districts"
    districts: list[str] = []
    circles: list[Circle] = []
    if kind == "districts":
        raw = [d.strip() for d in form.getall("districts", []) if isinstance(d, str)]
        unknown = [d for d in raw if d not in districts_known]
        if unknown:
            shown = "、".join(repr(d[:12]) for d in unknown[:3])
            errors.append(FormError("districts", say(lang, f"未知区县 {shown}：请从列表中选择", f"unknown district {shown}: pick from the list")))
        districts = sorted(set(d for d in raw if d in districts_known))
        if not raw:
            errors.append(FormError("districts", say(lang, "请至少选择一个区县", "pick at least one district")))
    elif kind == "circles":
        for row in range(MAX_CIRCLES):
            lat, lon, km = (_text(form, f"circle-{row}-{p}") for p in ("lat", "lon", "km"))
            if not (lat or lon or km):
                continue
            values = [_number(lat, f"circle-{row}-lat", -90, 90, errors, ("纬度", "latitude"), lang),
                      _number(lon, f"circle-{row}-lon", -180, 180, errors, ("经度", "longitude"), lang),
                      _number(km, f"circle-{row}-km", 0.1, 500, errors, ("半径（公里）", "radius (km)"), lang)]
            if None not in values:
                circles.append(Circle(*values))  # type: ignore[arg-type]
        if not circles and not errors:
            errors.append(FormError("circle-0-lat", say(lang, "请至少填写一个圆形范围：纬度、经度和半径",
                                                            "give at least one circle: latitude, longitude and radius")))
    else:
        errors.append(FormError("area_kind", say(lang, "区县或圆形范围", "districts or circles")))
    return districts, circles, errors


def identifier(sender: str, now: datetime) -> str:
    """GB/T 35965.1-like: the sender, Beijing time to the second, and a random tail (never reused)."""
    return f"{sender}_{now.astimezone(ZONE):%Y%m%d%H%M%S}_{secrets.token_hex(3)}"


def _validated(fields: dict, lang: str) -> tuple[EmergencyAlertIssued | None, list[FormError]]:
    try:
        alert = EmergencyAlertIssued.model_validate(fields)
        cap_params(alert)  # refused here if any SMS of it could not be composed (as the intake would)
        return alert, []
    except ValidationError as exc:
        return None, [FormError(_field(e["loc"]), field_reason(e["type"], e.get("ctx"), e["msg"], lang))
                      for e in exc.errors()]
    except ContractError as exc:
        return None, [FormError(_field(tuple(e.field.removeprefix("data.").split("."))), e.reason)
                      for e in exc.errors]


def _field(loc: tuple) -> str:
    head = str(loc[0]) if loc else FORM
    return {"instruction": "instruction", "areas[0]": "area_desc", "areas": "area_desc",
            "expires": "expires_hours", "severity": "severity", "event": "event"}.get(head, FORM)


def compose(form: MultiMapping, *, sender: str, now: datetime, districts_known: list[str], lang: str,
            thread=None, msg_type: CapMsgType = CapMsgType.ALERT) -> Composed:
    """The form → a CAP Alert (or, with ``thread``, an Update/Cancel of it). Everything refused is named by field."""
    errors: list[FormError] = []
    code = thread.event if thread is not None else _text(form, "event")
    kind = EVENTS.get(code)
    if kind is None:
        errors.append(FormError("event", say(lang, "请从列表中选择事件", "pick an event from the list")))
    mode = _text(form, "mode")
    if mode not in MODES:
        errors.append(FormError("mode", say(lang, "请选择演练或真实预警", "exercise or actual")))
    elif thread is not None and (MODES[mode] is CapStatus.EXERCISE) != thread.exercise:
        errors.append(FormError("mode", say(
            lang, f"演练与真实预警不能混在同一预警中：此预警是{'演练' if thread.exercise else '真实预警'}",
            "an exercise and an actual alert are never mixed in one thread: this thread is "
            f"{'an exercise' if thread.exercise else 'actual'}")))
    severity = _text(form, "severity") or "Severe"
    if severity not in {s.value for s in SEVERITIES}:
        errors.append(FormError("severity", say(lang, "请从列表中选择", f"one of {', '.join(s.value for s in SEVERITIES)}")))
    hours = _number(_text(form, "expires_hours") or "6", "expires_hours", 0.5, 72, errors, ("小时", "hours"), lang)
    if thread is None:
        districts, circles, area_errors = read_area(form, districts_known, lang)
        errors += area_errors
    else:
        area = json.loads(thread.area_json)
        districts, circles = area["districts"], [Circle(**c) for c in area["circles"]]
    if errors or kind is None:
        return Composed(errors=errors)
    desc = _text(form, "area_desc")[:100] or ("、".join(districts) if districts else
                                             f"{len(circles)} 个圆形区域")
    instruction = _text(form, "instruction")[:500] or None
    area = Area(area_desc=desc[:100] or "-", geocodes=[{"name": DISTRICT_GEOCODE, "value": d} for d in districts],
                circles=[{"center": {"lat": c.lat, "lon": c.lon}, "radius_km": c.km} for c in circles])
    sent = now.astimezone(ZONE).replace(microsecond=0)
    references = []
    if thread is not None:
        references = [CapReference(sender=thread.sender, identifier=thread.identifier, sent=thread.sent)]
        if thread.last_identifier != thread.identifier:
            references.append(CapReference(sender=thread.sender, identifier=thread.last_identifier,
                                           sent=thread.last_sent))
    fields = {"identifier": identifier(sender, now), "sender": sender, "sent": sent, "status": MODES[mode],
              "msg_type": msg_type, "scope": "Public", "references": references, "language": "zh-CN",
              "categories": [kind.category], "event": kind.zh, "urgency": CapUrgency.IMMEDIATE,
              "severity": severity, "certainty": CapCertainty.LIKELY,
              "instruction": instruction or kind.instruction_zh, "expires": sent + timedelta(hours=hours or 6),
              "translations": [InfoText(language="en-US", event=kind.en,
                                        instruction=None if instruction else kind.instruction_en)],
              "areas": [area]}
    alert, errors = _validated(fields, lang)
    return Composed(alert=alert, districts=districts, circles=circles, event_code=code, errors=errors)


def read_upload(raw: bytes, *, sender: str, now: datetime, lang: str) -> tuple[EmergencyAlertIssued | None,
                                                                               list[FormError]]:
    """An uploaded CAP 1.2 file: parsed safely and validated against the OASIS schema (contracts/cap), sent by this
    manager's unit, Actual or Exercise, not expired; each refusal names ``cap_file`` and why."""
    if not raw.strip():
        return None, [FormError("cap_file", say(lang, "请选择 CAP 1.2 XML 文件", "choose a CAP 1.2 XML file"))]
    if len(raw) > MAX_UPLOAD_BYTES:
        return None, [FormError("cap_file", say(lang, f"文件超过 {MAX_UPLOAD_BYTES // 1024} KiB",
                                                                      f"larger than {MAX_UPLOAD_BYTES // 1024} KiB"))]
    try:
        alert = from_cap(raw, max_bytes=MAX_UPLOAD_BYTES)
    except CapRejected as exc:
        return None, [FormError("cap_file", say(lang, "不是有效的 CAP 1.2 消息", "not a valid CAP 1.2 message")
                                        + f"：{e.field}: {e.reason}"[:300])
                      for e in exc.errors[:5]]
    errors = []
    if not IDENTIFIER.fullmatch(alert.identifier):
        errors.append(FormError("cap_file", say(lang, "标识符只能含字母、数字和 _ . : @ -（GB/T 35965.1 的形式）",
                                                "identifier: letters, digits and _ . : @ - only (GB/T 35965.1 form)")))
    if alert.sender != sender:
        errors.append(FormError("cap_file", say(lang, f"发布单位 {alert.sender[:60]!r} 不是本账号的 {sender!r}",
                                                  f"sender {alert.sender[:60]!r}: this account sends as {sender!r}")))
    if alert.status not in (CapStatus.ACTUAL, CapStatus.EXERCISE):
        errors.append(FormError("cap_file", say(lang, f"状态 {alert.status.value}：只能发布真实预警（Actual）或演练（Exercise）",
                                                  f"status {alert.status.value}: the console sends Actual or Exercise")))
    if alert.msg_type not in (CapMsgType.ALERT, CapMsgType.UPDATE, CapMsgType.CANCEL):
        errors.append(FormError("cap_file", say(lang, f"消息类型 {alert.msg_type.value}：只能是 Alert、Update 或 Cancel",
                                                  f"msgType {alert.msg_type.value}: Alert, Update or Cancel")))
    if alert.expires is not None and alert.expires <= now:
        errors.append(FormError("cap_file", say(lang, f"已于 {alert.expires.isoformat()} 过期：过期的预警不会发送",
                                                  f"expired at {alert.expires.isoformat()}: an expired alert is never sent")))
    if not errors:
        try:
            cap_params(alert)
        except ContractError as exc:
            errors += [FormError("cap_file", f"{e.field}: {e.reason}") for e in exc.errors]
    return (None, errors) if errors else (alert, [])


def mixes_exercise(alert: EmergencyAlertIssued, thread, lang: str = "zh-CN") -> FormError | None:
    if thread is not None and alert.is_exercise != thread.exercise:
        return FormError("cap_file", say(
            lang, f"状态 {alert.status.value} 指向{'演练' if thread.exercise else '真实预警'}：演练与真实预警不能混在同一预警中",
            f"status {alert.status.value} refers to {'an exercise' if thread.exercise else 'an actual'} thread: "
            "an exercise and an actual alert are never mixed in one thread"))
    return None
