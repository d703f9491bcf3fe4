"""Words of the console in zh-CN (default) and en, and times in Asia/Shanghai with the zone shown."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

LANGS = ("zh-CN", "en")
ZONE = ZoneInfo("Asia/Shanghai")

# key: (zh-CN, en)
WORDS: dict[str, tuple[str, str]] = {
    "app": ("儿童保护个案平台", "ChildSafe case platform"),
    "signin": ("登录", "Sign in"), "signout": ("退出", "Sign out"),
    "username": ("用户名", "Username"), "password": ("密码", "Password"),
    "signin.refused": ("用户名或密码不正确，或账号已停用。", "Wrong username or password, or the account is disabled."),
    "signin.throttled": ("尝试次数过多，请 {minutes} 分钟后再试。", "Too many attempts; try again in {minutes} minutes."),
    "signin.expired": ("登录已过期，请重新登录。", "Your session has ended; please sign in again."),
    "lang.switch": ("English", "中文"),
    "nav.report": ("报告事件", "Report an incident"), "nav.safety": ("校园安全检查", "Campus safety report"),
    "nav.reports": ("本校报告", "My school's reports"), "nav.queue": ("个案队列", "Case queue"),
    "nav.indicators": ("监测指标", "Indicators"),
    "report.title": ("报告事件", "Report an incident"),
    "report.intro": ("请如实填写。儿童姓名不需要填写；您的身份将保密，仅办案公安可在留痕后查看。",
                     "Fill in what you know. No child's name is needed; your identity is confidential and only "
                     "the investigating police can see it, and that is recorded."),
    "f.category": ("事件类别", "Category"), "f.occurred_at": ("发生时间（北京时间）", "When (Beijing time)"),
    "f.location": ("地点", "Place"), "f.severity": ("严重程度", "Severity"),
    "f.description": ("经过", "What happened"), "f.children": ("涉及儿童", "Children involved"),
    "f.child": ("儿童 {n}", "Child {n}"), "f.age": ("年龄（岁）", "Age (years)"), "f.sex": ("性别", "Sex"),
    "f.injured": ("受伤", "Injured"), "f.danger": ("有儿童此刻正处于危险中", "A child is in danger now"),
    "f.situations": ("强制报告情形（符合的请勾选）", "Mandatory-report situations (tick any that apply)"),
    "f.optional": ("可不填", "optional"),
    "preview.title": ("提交前提示", "Before you send"),
    "preview.mandatory": ("这将启动强制报告：{situations}。将立即通知：{agencies}。公安须在 {ack} 分钟内确认接报。",
                          "This opens a mandatory report: {situations}. Told at once: {agencies}. The police must "
                          "acknowledge within {ack} minutes."),
    "preview.not_mandatory": ("这不会启动强制报告。", "This does not open a mandatory report."),
    "preview.notices": ("还将通知：{who}。", "Also told: {who}."),
    "preview.incomplete": ("填写完整后，这里会显示是否启动强制报告以及通知谁。",
                           "Once the form is complete, this says whether a mandatory report opens and who is told."),
    "send": ("提交报告", "Send report"), "check": ("检查", "Check"),
    "sent": ("报告已送达，编号 {id}。", "Report received, number {id}."),
    "send.failed": ("未能送达（网络或服务暂时不可用）。您填写的内容已保留，请再次提交：使用同一编号，不会重复上报。",
                    "Not sent (network or service unavailable). What you typed is kept; send again: the same "
                    "number is used, so it is not reported twice."),
    "send.retrying": ("网络中断，正在以同一编号重试……", "Network failure; retrying with the same number…"),
    "form.errors": ("有 {n} 项需要修改，见各项旁的说明。", "{n} field(s) need fixing; see the notes beside them."),
    "safety.title": ("校园安全报告", "Campus safety report"), "safety.kind": ("类型", "Kind"),
    "safety.inspection": ("安全检查（隐患）", "Inspection (hazards)"), "safety.drill": ("应急演练", "Drill"),
    "safety.area": ("检查区域", "Area"), "safety.item": ("检查项目", "Item"), "safety.result": ("结果", "Result"),
    "safety.critical": ("重大隐患", "Critical"), "safety.note": ("说明", "Note"),
    "safety.row": ("检查项 {n}", "Item {n}"),
    "drill.kind": ("演练类型", "Drill kind"), "drill.held_on": ("演练日期", "Held on"),
    "drill.participants": ("参加人数", "Participants"), "drill.seconds": ("疏散用时（秒）", "Evacuation (seconds)"),
    "reports.title": ("本校报告及处理情况", "My school's reports and what became of them"),
    "reports.none": ("还没有通过平台提交的报告。", "No reports sent from the console yet."),
    "reports.routed": ("已受理并分流", "Received and routed"), "reports.case": ("已立案", "Case opened"),
    "reports.no_case": ("不属于强制报告，未立案", "Not a mandatory report; no case"),
    "reports.awaiting": ("等待立案", "Case being opened"),
    "reports.told": ("已通知：{who}", "Told: {who}"), "reports.told.none": ("尚未通知部门", "No agency told yet"),
    "reports.acked": ("已确认接报：{who}", "Acknowledged by: {who}"),
    "reports.acked.none": ("尚无部门确认接报", "Not yet acknowledged"),
    "queue.title": ("个案队列", "Case queue"), "queue.supervisor": ("下属单位个案（超时优先）", "Cases of the units under you (breaches first)"),
    "queue.none": ("没有个案。", "No cases."), "filter": ("筛选", "Filter"), "all": ("全部", "all"),
    "c.case": ("个案", "Case"), "c.state": ("状态", "State"), "c.risk": ("风险", "Risk"),
    "c.category": ("类别", "Category"), "c.reported": ("报告时间", "Reported"), "c.due": ("最近期限", "Next deadline"),
    "c.breach": ("超时", "Breached"), "c.escalated": ("已升级 {n} 级", "escalated ×{n}"),
    "due.in": ("剩 {m}", "{m} left"), "due.over": ("超时 {m}", "{m} overdue"), "due.none": ("无待办期限", "no open deadline"),
    "case.deadlines": ("期限", "Deadlines"), "case.duty": ("职责", "Duty"), "case.due": ("期限", "Due"),
    "case.met": ("完成", "Met"), "case.timeline": ("经过记录", "Timeline"), "case.referrals": ("转介", "Referrals"),
    "case.agencies": ("负责部门", "Agencies"), "case.summary": ("报告摘要", "Summary"),
    "case.reporter": ("报告人身份", "Reporter's identity"),
    "case.reporter.show": ("查看报告人身份（将留痕）", "Show the reporter (this is recorded)"),
    "case.reporter.hidden": ("报告人身份保密。", "The reporter's identity is confidential."),
    "case.own_report": ("本校报告内容", "Your school's report"), "case.own_notes": ("本校记录", "Your school's notes"),
    "case.no_notes": ("本校尚未添加记录。", "Your school has added no notes."),
    "school.told": ("已通知", "told"), "school.not_told": ("尚未通知", "not yet told"),
    "case.referral_only": ("贵单位被请求接受以下转介；接受后可查看个案。",
                           "Your unit is asked to take this referral; once accepted, it can see the case."),
    "case.actions": ("办理", "Actions"), "case.outcome": ("结果", "Outcome"),
    "a.acknowledge": ("确认接报", "Acknowledge"), "a.assign": ("指派", "Assign"), "a.assignee": ("承办人", "Assignee"),
    "a.note": ("添加记录", "Add note"), "a.note.text": ("记录内容", "Note"), "a.refer": ("转介", "Refer"),
    "a.refer.to": ("转介至", "Refer to"), "a.reason": ("理由", "Reason"), "a.services": ("开始服务", "Start services"),
    "a.service": ("服务", "Service"), "a.close": ("结案", "Close"), "a.reopen": ("重新打开", "Reopen"),
    "a.accept": ("接受转介", "Accept referral"), "a.reject": ("拒绝转介", "Reject referral"),
    "a.missing": ("发布儿童走失预警", "Publish missing-child alert"), "a.found": ("儿童已找到", "Child found"),
    "mc.title": ("儿童走失预警", "Missing-child alert"),
    "mc.intro": ("从最后出现地点起按 100/200/300/500 公里逐级扩大通知学校；不填写儿童姓名。",
                 "Schools are told ring by ring, 100/200/300/500 km from where the child was last seen; no name."),
    "mc.last_seen_at": ("最后出现时间（北京时间）", "Last seen (Beijing time)"),
    "mc.description": ("衣着与外貌", "Clothing and appearance"),
    "mc.place": ("最后出现地点：默认本案学校；不在学校时填写坐标", "Last seen: the case's school, or these coordinates"),
    "mc.lat": ("纬度", "Latitude"), "mc.lon": ("经度", "Longitude"),
    "mc.out": ("儿童走失预警正在发布中。", "A missing-child alert is out."),
    "mc.found_where": ("找到情况（可不填）", "Where found (optional)"),
    "a.complete": ("完成转介", "Complete referral"), "a.done": ("已办理。", "Done."),
    "err.403": ("您的角色不能进行此操作。", "Your role may not do this."),
    "err.404": ("没有找到该个案（或不在您单位的范围内）。", "No such case (or not in your unit's scope)."),
    "err.409": ("当前状态不允许此操作：{msg}", "Not allowed in the case's state: {msg}"),
    "err.422": ("请修改：{msg}", "Please fix: {msg}"),
    "err.503": ("系统繁忙，请稍后重试。", "The system is busy; please try again shortly."),
    "err.csrf": ("表单已失效，请刷新页面后重试。", "This form has expired; reload the page and try again."),
    "zone": ("北京时间", "Beijing time"),
    "yes": ("是", "yes"), "no": ("否", "no"), "choose": ("请选择", "choose"),
    "referral.to": ("转介至 {to}（{state}）", "to {to} ({state})"),
}

CATEGORY = {
    "traffic": ("交通事故", "Traffic accident"), "drowning": ("溺水", "Drowning"), "fall": ("跌倒坠落", "Fall"),
    "burn_scald": ("烧烫伤", "Burn or scald"), "food_poisoning": ("食物中毒", "Food poisoning"),
    "poisoning_other": ("其他中毒", "Other poisoning"), "bullying": ("欺凌", "Bullying"),
    "abuse_harm": ("虐待伤害", "Abuse or harm"), "sexual_assault": ("性侵害", "Sexual assault"),
    "missing_child": ("儿童走失", "Missing child"), "trafficking": ("拐卖", "Trafficking"),
    "self_harm": ("自伤", "Self-harm"), "campus_intrusion_violence": ("校园闯入暴力", "Campus intrusion or violence"),
    "school_bus_incident": ("校车事故", "School bus incident"), "facility_hazard": ("设施隐患", "Facility hazard"),
    "fire": ("火灾", "Fire"), "natural_disaster": ("自然灾害", "Natural disaster"),
    "public_health_emergency": ("公共卫生事件", "Public health emergency"), "other": ("其他", "Other"),
}
SEVERITY = {"minor": ("轻微", "Minor"), "moderate": ("一般", "Moderate"), "serious": ("严重", "Serious"),
            "critical": ("危急", "Critical")}
SEX = {"female": ("女", "Female"), "male": ("男", "Male"), "unknown": ("不详", "Unknown")}
STATE = {"reported": ("已报告", "reported"), "forwarded": ("已转送", "forwarded"),
         "acknowledged": ("已确认接报", "acknowledged"), "investigating": ("调查中", "investigating"),
         "services": ("服务中", "services"), "closed": ("已结案", "closed"), "requested": ("待答复", "requested"),
         "accepted": ("已接受", "accepted"), "rejected": ("已拒绝", "rejected"), "completed": ("已完成", "completed"),
         "ended": ("随结案终止", "ended with the case")}
RISK = {"high": ("高", "high"), "normal": ("一般", "normal")}
DUTY = {"forward": ("转送公安", "forward"), "acknowledge": ("确认接报", "acknowledge"), "assign": ("指派", "assign"),
        "close": ("结案", "close")}
AGENCY = {"public_security": ("公安机关", "public security"), "civil_affairs": ("民政部门", "civil affairs"),
          "education": ("教育部门", "education"), "health": ("卫生健康部门", "health"),
          "womens_federation": ("妇联", "women's federation"), "procuratorate": ("检察院", "procuratorate"),
          "market_regulation": ("市场监管部门", "market regulation"),
          "emergency_management": ("应急管理部门", "emergency management")}
AUDIENCE = {"school_guardians": ("全校家长", "every guardian of the school"),
            "school_contacts": ("学校负责人", "the school's contacts"),
            "agency_duty_officers": ("相关部门值班人员", "the agencies' duty officers")}
SERVICE = {"rescue": ("救助", "rescue"), "treatment": ("医疗救治", "treatment"), "counselling": ("心理辅导", "counselling")}
AREA = {"buildings": ("校舍", "buildings"), "fire_safety": ("消防", "fire safety"), "food_safety": ("食品安全", "food safety"),
        "school_bus": ("校车", "school bus"), "security": ("安保", "security"),
        "surrounding_traffic": ("周边交通", "surrounding traffic"), "water_hazards": ("涉水隐患", "water hazards")}
RESULT = {"pass": ("合格", "pass"), "fail": ("不合格", "fail"), "not_applicable": ("不适用", "not applicable")}
DRILL = {"evacuation": ("疏散", "evacuation"), "fire": ("消防", "fire"), "earthquake": ("地震", "earthquake"),
         "flood": ("防汛", "flood"), "intruder_lockdown": ("防暴闭校", "intruder lockdown")}

# The nine mandatory-report situations (2020 opinion, art. 4): a plain label and a one-line explanation.
SITUATIONS: dict[int, tuple[tuple[str, str], tuple[str, str]]] = {
    1: (("隐私部位异常或疑似受伤", "Injury to private parts"),
        ("生殖器或其他隐私部位有不正常的伤或疑似被侵害的痕迹。", "Abnormal or suspected injury to the genitals or private parts.")),
    2: (("不满14岁女孩遭性侵、怀孕或流产", "Girl under 14: sexual assault, pregnancy or miscarriage"),
        ("不满14周岁的女孩遭受或疑似遭受性侵害，或者怀孕、流产。", "A girl under 14 who was or may have been sexually assaulted, or is pregnant or miscarried.")),
    3: (("14岁以上女孩因性侵怀孕或流产", "Girl 14+: pregnancy or miscarriage from assault"),
        ("已满14周岁的女孩因遭受或疑似遭受性侵害而怀孕、流产。", "A girl 14 or over pregnant or miscarrying after a (suspected) sexual assault.")),
    4: (("多处受伤、严重营养不良或意识不清", "Multiple injuries, severe malnutrition, impaired consciousness"),
        ("因家暴、欺凌、虐待、殴打或被人麻醉等造成多处伤、营养不良或意识不清。", "With (suspected) domestic violence, bullying, abuse, beating or drugging.")),
    5: (("非正常原因致残或死亡", "Disability or death from abnormal causes"),
        ("因自杀、自残、工伤、中毒、被人麻醉或殴打等非正常原因致残、死亡。", "Suicide, self-harm, work injury, poisoning, drugging or beating.")),
    6: (("被遗弃或长期无人照料", "Abandoned or long without care"),
        ("儿童被遗弃，或长期处于无人照料的状态。", "A child abandoned, or left without care for a long time.")),
    7: (("来历不明、失踪、被拐卖或被收买", "Unknown origin, missing, trafficked or bought"),
        ("发现来历不明、失踪或者被拐卖、被收买的儿童。", "A child of unknown origin, or missing, trafficked or bought.")),
    8: (("被组织乞讨", "Made to beg by a group"), ("儿童被组织乞讨。", "A child made to beg by an organised group.")),
    9: (("其他严重侵害或正面临不法侵害危险", "Other serious harm, or in present danger"),
        ("其他严重侵害儿童人身权利，或儿童正面临不法侵害危险的情形。", "Any other serious harm, or a child in present danger of unlawful harm.")),
}


def pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def word(key: str, lang: str, **kw) -> str:
    text = pick(WORDS[key], lang)
    return text.format(**kw) if kw else text


def label(table: dict, value, lang: str) -> str:
    pair = table.get(value)
    return pick(pair, lang) if pair else str(value)


def local_time(value: str | datetime | None, lang: str) -> str:
    """'2026-11-29 09:00 北京时间 (UTC+8)': every time a person reads is in Asia/Shanghai, zone shown."""
    if not value:
        return "—"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return f"{moment.astimezone(ZONE):%Y-%m-%d %H:%M} {word('zone', lang)} (UTC+8)"


def span(seconds: float, lang: str) -> str:
    minutes = int(abs(seconds) // 60)
    if minutes >= 120:
        return f"{minutes // 60} 小时 {minutes % 60} 分" if lang != "en" else f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} 分钟" if lang != "en" else f"{minutes} min"


# Field errors in Chinese: pydantic's error type → a sentence (ctx values filled in).
_ZH_BY_TYPE = {
    "missing": "必填", "string_too_short": "不能为空", "string_too_long": "太长：最多 {max_length} 个字",
    "less_than_equal": "不能大于 {le}", "greater_than_equal": "不能小于 {ge}", "int_parsing": "请填写整数",
    "int_from_float": "请填写整数", "enum": "请从列表中选择", "literal_error": "请从列表中选择",
    "datetime_from_date_parsing": "请填写完整的日期和时间", "datetime_parsing": "请填写完整的日期和时间",
    "date_from_datetime_parsing": "请填写日期", "date_parsing": "请填写日期", "bool_parsing": "请选择是或否",
    "too_short": "至少需要 {min_length} 项", "too_long": "最多 {max_length} 项", "string_pattern_mismatch": "格式不正确",
    "value_error": "不正确：{msg}", "extra_forbidden": "不认识的项目",
}
_EN_BY_TYPE = {"missing": "required", "string_too_short": "must not be empty"}


def field_reason(kind: str, ctx: dict | None, english: str, lang: str) -> str:
    """A refused field's reason in the reader's language; Chinese by default."""
    ctx = {k: v for k, v in (ctx or {}).items()}
    if lang == "en":
        return _EN_BY_TYPE.get(kind, english)
    template = _ZH_BY_TYPE.get(kind)
    if template is None:
        return f"不正确（{english}）"
    ctx.setdefault("msg", re.sub(r"^Value error, ", "", english))
    try:
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template
