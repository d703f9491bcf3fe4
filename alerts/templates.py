"""SMS templates per alert kind, in zh-CN (default) and en, with the slots each may fill.

Sensitive kinds (mandatory report duty, missing child, case escalation) have no free-text slot at all:
only *where* to act (a closed vocabulary) and a *deadline* (a time), so no name or case detail can reach
the body whatever the parameters hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from contracts.alert_request import AlertKind
from contracts.common import Language

from alerts.errors import TemplateParamError

ZH, EN = Language.ZH_CN, Language.EN

EXERCISE_PREFIX = {ZH: "【演练】", EN: "[EXERCISE] "}
ACK_SUFFIX = {ZH: "，收到请回复1。", EN: ". Reply 1 to acknowledge."}

WHERE = {
    "platform": {ZH: "登录儿童保护个案平台", EN: "log in to the ChildSafe case platform"},
    "duty_desk": {ZH: "联系本单位值班室", EN: "contact your unit's duty desk"},
    "police_station": {ZH: "联系辖区派出所", EN: "contact the local police station"},
    "school_office": {ZH: "前往学校安全办公室", EN: "go to the school safety office"},
}
"""Where a sensitive-case recipient must act: the only place information a sensitive SMS may carry."""

EVENTS = {
    "traffic": {ZH: "交通事故", EN: "a traffic accident"},
    "drowning": {ZH: "溺水事件", EN: "a drowning incident"},
    "fall": {ZH: "跌落事故", EN: "a fall"},
    "burn_scald": {ZH: "烧烫伤事故", EN: "a burn or scald"},
    "food_poisoning": {ZH: "食物中毒事件", EN: "a food poisoning incident"},
    "poisoning_other": {ZH: "中毒事件", EN: "a poisoning incident"},
    "campus_intrusion_violence": {ZH: "校园安全突发事件", EN: "a campus security incident"},
    "school_bus_incident": {ZH: "校车事故", EN: "a school bus incident"},
    "facility_hazard": {ZH: "设施安全隐患", EN: "a facility hazard"},
    "fire": {ZH: "火情", EN: "a fire"},
    "natural_disaster": {ZH: "自然灾害", EN: "a natural disaster"},
    "public_health_emergency": {ZH: "突发公共卫生事件", EN: "a public health emergency"},
    "other": {ZH: "突发事件", EN: "an emergency"},
}
"""What happened, for non-sensitive emergency alerts: a closed vocabulary keyed by incident category
(harm categories such as abuse or sexual assault have no label: they only ever go out as sensitive kinds)."""

_DEADLINE = re.compile(r"^(\d{4}-\d{2}-\d{2} )?([01]\d|2[0-3]):[0-5]\d$")
_TEXT_MAX = 60


@dataclass(frozen=True)
class Slot:
    """One parameter a template fills: free text, a word from ``WHERE``, or a deadline time."""

    name: str
    kind: str = "text"  # text | where | deadline | event
    required: bool = True
    default: dict[Language, str] = field(default_factory=dict)
    clause: dict[Language, str] = field(default_factory=dict)  # wraps the value, e.g. "于{value}前"

    def render(self, raw: str | None, lang: Language, template: str) -> str:
        if raw is None or raw == "":
            if self.default:
                return self.default[lang]
            if self.required:
                raise TemplateParamError(f"params.{self.name}", f"required by the {template} template")
            return ""
        value = self._validated(raw.strip())
        return self.clause[lang].format(value=value) if self.clause else value

    def _validated(self, value: str) -> str:
        if self.kind == "where":
            if value not in WHERE:
                raise TemplateParamError(f"params.{self.name}", f"one of {sorted(WHERE)}", value)
            return value
        if self.kind == "event":
            if value not in EVENTS:
                raise TemplateParamError(f"params.{self.name}", f"one of {sorted(EVENTS)}", value)
            return value
        if self.kind == "deadline":
            if not _DEADLINE.match(value):
                raise TemplateParamError(f"params.{self.name}", "a time HH:MM or 'YYYY-MM-DD HH:MM'", value)
            return value
        if len(value) > _TEXT_MAX or any(ch in value for ch in "\r\n\t"):
            raise TemplateParamError(f"params.{self.name}", f"one line of at most {_TEXT_MAX} characters", value)
        return value


@dataclass(frozen=True)
class Template:
    kind: AlertKind
    text: dict[Language, str]
    slots: tuple[Slot, ...]

    @property
    def slot_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.slots)

    def render(self, values: dict[str, str], lang: Language, ref: str) -> str:
        filled = {s.name: s.render(values.get(s.name), lang, self.kind.value) for s in self.slots}
        for s in self.slots:
            if s.kind == "where":
                filled[s.name] = WHERE[filled[s.name]][lang]
            elif s.kind == "event" and filled[s.name]:
                filled[s.name] = EVENTS[filled[s.name]][lang]
        return self.text[lang].format(ref=ref, **filled)


def _deadline() -> Slot:
    return Slot("deadline", "deadline", required=False, clause={ZH: "于{value}前", EN: " by {value}"})


def _where(default: str) -> Slot:
    return Slot("where", "where", default={ZH: default, EN: default})


CATALOGUE: dict[AlertKind, Template] = {t.kind: t for t in [
    Template(AlertKind.INCIDENT_EMERGENCY, {
        ZH: "【儿童安全紧急】{school}发生{category}。{action}。编号{ref}",
        EN: "[ChildSafe EMERGENCY] {category} at {school}. {action}. Ref {ref}",
    }, (Slot("school", default={ZH: "您孩子所在学校", EN: "your child's school"}), Slot("category", "event"),
        Slot("action", default={
        ZH: "请留意学校通知，勿前往现场", EN: "Follow the school's instructions and do not go to the site"}))),
    Template(AlertKind.MANDATORY_REPORT_DUTY, {
        ZH: "【儿童安全】您单位有一项强制报告需立即处理，请{deadline}{where}办理。编号{ref}",
        EN: "[ChildSafe] Your unit has a mandatory report that needs action now. Please {where}{deadline}. Ref {ref}",
    }, (_where("platform"), _deadline())),
    Template(AlertKind.RECALL, {
        ZH: "【儿童安全召回】{product}{model}存在{hazard}风险。{remedy}。召回编号{recall_number}，编号{ref}",
        EN: "[ChildSafe RECALL] {product}{model}: {hazard} risk. {remedy}. Recall {recall_number}, ref {ref}",
    }, (Slot("product"), Slot("model", required=False, clause={ZH: "（型号{value}）", EN: " (model {value})"}),
        Slot("hazard"), Slot("recall_number"), Slot("remedy", default={
            ZH: "请立即停止使用并联系销售方", EN: "Stop using it now and contact the seller"}))),
    Template(AlertKind.HAZARD_FOLLOWUP, {
        ZH: "【儿童安全】{school}的安全隐患（{hazard}）需整改，请{deadline}完成并在平台回报。编号{ref}",
        EN: "[ChildSafe] Safety hazard at {school} ({hazard}) must be fixed{deadline}; report back on the platform. Ref {ref}",
    }, (Slot("school"), Slot("hazard"), _deadline())),
    Template(AlertKind.DRILL_OVERDUE, {
        ZH: "【儿童安全】{school}的{drill}演练已逾期，请{deadline}组织并登记。编号{ref}",
        EN: "[ChildSafe] The {drill} drill at {school} is overdue; hold and record it{deadline}. Ref {ref}",
    }, (Slot("school"), Slot("drill"), _deadline())),
    Template(AlertKind.OUTBREAK, {
        ZH: "【儿童安全】{school}出现{disease}聚集病例。{action}。编号{ref}",
        EN: "[ChildSafe] Cluster of {disease} cases at {school}. {action}. Ref {ref}",
    }, (Slot("school"), Slot("disease"), Slot("action", default={
        ZH: "请留意孩子健康状况，如有症状请就医并告知学校",
        EN: "Watch your child's health; if symptoms appear, see a doctor and tell the school"}))),
    Template(AlertKind.CAP_EMERGENCY, {
        ZH: "【儿童安全预警】{area}：{event}。{instruction}。编号{ref}",
        EN: "[ChildSafe ALERT] {area}: {event}. {instruction}. Ref {ref}",
    }, (Slot("area"), Slot("event"), Slot("instruction", default={
        ZH: "请按当地政府指引行动", EN: "Follow local government instructions"}))),
    Template(AlertKind.MISSING_CHILD, {
        ZH: "【儿童安全】辖区有一起儿童走失紧急协查，请立即{where}了解协查要求。编号{ref}",
        EN: "[ChildSafe] Urgent missing-child assistance request in your area. Please {where} now for instructions. Ref {ref}",
    }, (_where("police_station"),)),
    Template(AlertKind.CASE_ESCALATION, {
        ZH: "【儿童安全】一起儿童保护个案已升级至您处，需立即处理，请{deadline}{where}。编号{ref}",
        EN: "[ChildSafe] A child-protection case has been escalated to you and needs action now. Please {where}{deadline}. Ref {ref}",
    }, (_where("platform"), _deadline())),
]}


def template_for(kind: AlertKind) -> Template:
    return CATALOGUE[kind]
