"""SMS templates per alert kind, in zh-CN (default) and en: the wording and labels of the slots that
``contracts.alert_slots`` defines (one slot contract for producers and templates, so what a producer was
allowed to send always composes).

Sensitive kinds (mandatory report duty, missing child, case escalation) have no free-text slot at all:
only *where* to act (a closed vocabulary) and a *deadline* (a time), so no name or case detail can reach
the body whatever the parameters hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from alerts.errors import TemplateParamError
from contracts.alert_request import AlertKind, AlertRequested
from contracts.alert_slots import SlotError, SlotKind, SlotSpec, Where, normalise_slot, slot_specs
from contracts.common import Language
from contracts.incident import IncidentCategory as C
from contracts.safety import DrillKind as D

ZH, EN = Language.ZH_CN, Language.EN

EXERCISE_PREFIX = {ZH: "【演练】", EN: "[EXERCISE] "}
ACK_SUFFIX = {ZH: "，收到请回复1。", EN: ". Reply 1 to acknowledge."}

WHERE = {
    Where.PLATFORM: {ZH: "登录儿童保护个案平台", EN: "log in to the ChildSafe case platform"},
    Where.DUTY_DESK: {ZH: "联系本单位值班室", EN: "contact your unit's duty desk"},
    Where.POLICE_STATION: {ZH: "联系辖区派出所", EN: "contact the local police station"},
    Where.SCHOOL_OFFICE: {ZH: "前往学校安全办公室", EN: "go to the school safety office"},
}
"""Where a sensitive-case recipient must act: the only place information a sensitive SMS may carry."""

_PROTECTION = {ZH: "儿童保护紧急事件", EN: "a child-protection emergency"}
EVENTS = {
    C.TRAFFIC: {ZH: "交通事故", EN: "a traffic accident"},
    C.DROWNING: {ZH: "溺水事件", EN: "a drowning incident"},
    C.FALL: {ZH: "跌落事故", EN: "a fall"},
    C.BURN_SCALD: {ZH: "烧烫伤事故", EN: "a burn or scald"},
    C.FOOD_POISONING: {ZH: "食物中毒事件", EN: "a food poisoning incident"},
    C.POISONING_OTHER: {ZH: "中毒事件", EN: "a poisoning incident"},
    C.BULLYING: {ZH: "校园欺凌事件", EN: "a bullying incident"},
    C.ABUSE_HARM: _PROTECTION,
    C.SEXUAL_ASSAULT: _PROTECTION,
    C.MISSING_CHILD: _PROTECTION,
    C.TRAFFICKING: _PROTECTION,
    C.SELF_HARM: {ZH: "学生自伤危险事件", EN: "a student at risk of self-harm"},
    C.CAMPUS_INTRUSION_VIOLENCE: {ZH: "校园安全突发事件", EN: "a campus security incident"},
    C.SCHOOL_BUS_INCIDENT: {ZH: "校车事故", EN: "a school bus incident"},
    C.FACILITY_HAZARD: {ZH: "设施安全隐患", EN: "a facility hazard"},
    C.FIRE: {ZH: "火情", EN: "a fire"},
    C.NATURAL_DISASTER: {ZH: "自然灾害", EN: "a natural disaster"},
    C.PUBLIC_HEALTH_EMERGENCY: {ZH: "突发公共卫生事件", EN: "a public health emergency"},
    C.OTHER: {ZH: "突发事件", EN: "an emergency"},
}
"""What happened, by incident category. Harm categories get one discreet label (who must act learns the
rest on the case platform): never a name, never what was done to whom."""

DRILLS = {
    D.EVACUATION: {ZH: "疏散", EN: "evacuation"},
    D.FIRE: {ZH: "消防", EN: "fire"},
    D.EARTHQUAKE: {ZH: "防震", EN: "earthquake"},
    D.FLOOD: {ZH: "防汛", EN: "flood"},
    D.INTRUDER_LOCKDOWN: {ZH: "防入侵", EN: "intruder lockdown"},
}

LABELS: dict[str, dict[str, dict[Language, str]]] = {"where": WHERE, "category": EVENTS, "drill": DRILLS}
"""Labels of the closed vocabularies a template prints, by slot name (``scope`` only picks the wording)."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def render_deadline(value: str, lang: Language) -> str:
    """A normalised deadline as a person reads it: 18:00, 2026年12月14日 (14 Dec 2026), or both."""
    if len(value) == 5:
        return value
    day = datetime.strptime(value[:10], "%Y-%m-%d")
    time = value[11:]
    if lang is ZH:
        return f"{day.year}年{day.month}月{day.day}日" + (time and f"{time}")
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}" + (time and f" {time}")


@dataclass(frozen=True)
class Wording:
    """How a template prints one slot: the text when it is empty, and the clause that wraps its value."""

    default: dict[Language, str] = field(default_factory=dict)
    clause: dict[Language, str] = field(default_factory=dict)  # e.g. "于{value}前"


@dataclass(frozen=True)
class Template:
    kind: AlertKind
    text: dict[Language, str]
    wording: dict[str, Wording] = field(default_factory=dict)
    variants: dict[str, dict[Language, str]] = field(default_factory=dict)
    """Other wordings of the same alert: for agencies' duty officers, school contacts, a district-wide scope."""

    @property
    def slots(self) -> tuple[SlotSpec, ...]:
        return tuple(slot_specs(self.kind).values())

    @property
    def slot_names(self) -> frozenset[str]:
        return frozenset(slot_specs(self.kind))

    def variant_for(self, request: AlertRequested) -> str | None:
        if request.params.get("scope") in self.variants:
            return request.params["scope"]
        return request.audience.kind if request.audience.kind in self.variants else None

    def text_for(self, variant: str | None, lang: Language) -> str:
        return (self.variants[variant] if variant else self.text)[lang]

    def fill(self, spec: SlotSpec, raw: str | None, lang: Language) -> str:
        wording = self.wording.get(spec.name, Wording())
        try:
            value = normalise_slot(spec, raw or "")
        except SlotError as exc:
            raise TemplateParamError(f"params.{spec.name}", f"{exc.reason} (the {self.kind.value} template)",
                                     exc.got) from None
        if not value:
            return wording.default.get(lang, "")
        if spec.kind is SlotKind.CHOICE and spec.name in LABELS:
            value = LABELS[spec.name][value][lang]
        elif spec.kind is SlotKind.DEADLINE:
            value = render_deadline(value, lang)
        return wording.clause[lang].format(value=value) if wording.clause else value

    def render(self, values: dict[str, str], lang: Language, ref: str, variant: str | None = None) -> str:
        filled = {s.name: self.fill(s, values.get(s.name), lang) for s in self.slots}
        return self.text_for(variant, lang).format(ref=ref, **filled)

    def said_anyway(self, lang: Language) -> str:
        """Every word this template may print whatever the parameters: its texts and its vocabularies' labels."""
        labels = [label[lang] for spec in self.slots for label in LABELS.get(spec.name, {}).values()]
        words = [w for wd in self.wording.values() for w in (*wd.default.values(), *wd.clause.values())]
        return "\n".join([self.text[lang], *(v[lang] for v in self.variants.values()), *labels, *words])


_DEADLINE = Wording(clause={ZH: "于{value}前", EN: " by {value}"})
_DISTRICT = Wording(clause={ZH: "（行政区划{value}）", EN: " (district {value})"})
_SCHOOL = Wording(default={ZH: "您孩子所在学校", EN: "your child's school"})
_OUTBREAK_ACT = {ZH: "请立即组织流行病学调查和现场处置，核实患病儿童并报告", EN: "Investigate and respond now: check on "
                 "the sick children and report back"}


def _where(default: Where) -> Wording:
    return Wording(default={ZH: WHERE[default][ZH], EN: WHERE[default][EN]})


CATALOGUE: dict[AlertKind, Template] = {t.kind: t for t in [
    Template(AlertKind.INCIDENT_EMERGENCY, {
        ZH: "【儿童安全紧急】{school}发生{category}。{action}。编号{ref}",
        EN: "[ChildSafe EMERGENCY] There is {category} at {school}. {action}. Ref {ref}",
    }, {"school": _SCHOOL, "district_code": _DISTRICT, "action": Wording(default={
        ZH: "请留意学校通知，勿前往现场", EN: "Follow the school's instructions and do not go to the site"})},
        variants={"agency_duty_officers": {
            ZH: "【儿童安全紧急】{school}{district_code}发生{category}。请立即按应急预案响应，赶赴现场并联系学校。编号{ref}",
            EN: "[ChildSafe EMERGENCY] There is {category} at {school}{district_code}. Respond now under your "
                "emergency plan: go to the site and contact the school. Ref {ref}",
        }, "school_contacts": {
            ZH: "【儿童安全紧急】{school}发生{category}，有儿童正处于危险中。请立即按学校应急预案处置并报告。编号{ref}",
            EN: "[ChildSafe EMERGENCY] There is {category} at {school} and a child is in danger now. Act on the "
                "school's emergency plan now and report. Ref {ref}",
        }}),
    Template(AlertKind.MANDATORY_REPORT_DUTY, {
        ZH: "【儿童安全】您单位有一项强制报告需立即处理，请{deadline}{where}办理。编号{ref}",
        EN: "[ChildSafe] Your unit has a mandatory report that needs action now. Please {where}{deadline}. Ref {ref}",
    }, {"where": _where(Where.PLATFORM), "deadline": _DEADLINE}),
    Template(AlertKind.RECALL, {
        ZH: "【儿童安全召回】{product}{model}存在{hazard}风险。{remedy}。召回编号{recall_number}，编号{ref}",
        EN: "[ChildSafe RECALL] {product}{model}: {hazard} risk. {remedy}. Recall {recall_number}, ref {ref}",
    }, {"model": Wording(clause={ZH: "（型号{value}）", EN: " (model {value})"}), "remedy": Wording(default={
        ZH: "请立即停止使用并联系销售方", EN: "Stop using it now and contact the seller"})}),
    Template(AlertKind.HAZARD_FOLLOWUP, {
        ZH: "【儿童安全】{school}的安全隐患（{hazard}）需整改，请{deadline}完成并在平台回报。编号{ref}",
        EN: "[ChildSafe] Safety hazard at {school} ({hazard}) must be fixed{deadline}; report back on the platform. Ref {ref}",
    }, {"school": Wording(default={ZH: "贵校", EN: "your school"}), "deadline": _DEADLINE}),
    Template(AlertKind.DRILL_OVERDUE, {
        ZH: "【儿童安全】{school}的{drill}演练已逾期，请{deadline}组织并登记。编号{ref}",
        EN: "[ChildSafe] The {drill} drill at {school} is overdue; hold and record it{deadline}. Ref {ref}",
    }, {"school": Wording(default={ZH: "贵校", EN: "your school"}), "deadline": _DEADLINE}),
    Template(AlertKind.OUTBREAK, {
        ZH: "【儿童安全】{school}短时间内多次报告{category}{children}，疑似聚集性事件。" + _OUTBREAK_ACT[ZH] + "。编号{ref}",
        EN: "[ChildSafe] Suspected cluster at {school}: repeated reports of {category}{children}. "
            + _OUTBREAK_ACT[EN] + ". Ref {ref}",
    }, {"school": Wording(default={ZH: "辖区内一所学校", EN: "a school in your district"}),
        "children": Wording(clause={ZH: "，涉及{value}名儿童", EN: ", {value} children affected"}),
        "district_code": Wording(default={ZH: "本辖区", EN: "your district"}, clause={ZH: "行政区划{value}",
                                                                                   EN: "district {value}"})},
        variants={"district": {
            ZH: "【儿童安全】{district_code}内多所学校短时间内报告{category}{children}，疑似聚集性事件。"
                + _OUTBREAK_ACT[ZH] + "。编号{ref}",
            EN: "[ChildSafe] Suspected cluster in {district_code}: several schools report {category}{children}. "
                + _OUTBREAK_ACT[EN] + ". Ref {ref}",
        }}),
    Template(AlertKind.CAP_EMERGENCY, {
        ZH: "【儿童安全预警】{area}：{event}。{instruction}。编号{ref}",
        EN: "[ChildSafe ALERT] {area}: {event}. {instruction}. Ref {ref}",
    }, {"area": Wording(default={ZH: "您所在地区", EN: "Your area"}), "instruction": Wording(default={
        ZH: "请按当地政府指引行动", EN: "Follow local government instructions"})}),
    Template(AlertKind.MISSING_CHILD, {
        ZH: "【儿童安全】辖区有一起儿童走失紧急协查，请立即{where}了解协查要求。编号{ref}",
        EN: "[ChildSafe] Urgent missing-child assistance request in your area. Please {where} now for instructions. Ref {ref}",
    }, {"where": _where(Where.POLICE_STATION)}),
    Template(AlertKind.CASE_ESCALATION, {
        ZH: "【儿童安全】一起儿童保护个案已升级至您处，需立即处理，请{deadline}{where}。编号{ref}",
        EN: "[ChildSafe] A child-protection case has been escalated to you and needs action now. Please {where}{deadline}. Ref {ref}",
    }, {"where": _where(Where.PLATFORM), "deadline": _DEADLINE}),
]}

EMERGENCY_FALLBACK = {
    ZH: "【儿童安全紧急】{school}发生紧急情况，请按学校/当地政府通知行动。编号{ref}",
    EN: "[ChildSafe EMERGENCY] An emergency at {school}: follow the school's and local government's "
        "instructions. Ref {ref}",
}
"""The last line of defence: what an emergency says when its own template cannot be composed. No free text:
only the school's name from the directory (or a fixed phrase) and the reference."""
FALLBACK_PLACE = {ZH: "您所在地区的学校", EN: "a school in your area"}


def template_for(kind: AlertKind) -> Template:
    return CATALOGUE[kind]
