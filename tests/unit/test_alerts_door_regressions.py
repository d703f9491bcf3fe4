"""Issue 9, one regression per finding: each input below was accepted and then refused at the SMS fan-out (or
said the wrong thing); now it composes, says the right thing, or is refused at the door naming its field."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alerts.composition import Recipient, compose
from alerts.templates import EVENTS, LABELS
from consumers.cases.duty_alerts import escalation_alert
from consumers.cases.models import MandatoryReportCase
from consumers.cases.routing import agency_kinds
from consumers.metrics import ALERT_FALLBACK_BODIES, ALERTS_REFUSED_AFTER_ACCEPTANCE
from consumers.sms.fanout import AudienceFanout
from consumers.store.db import make_engine
from contracts.alert_request import AlertRequested
from contracts.alert_slots import SLOTS, SlotKind, normalise_text
from contracts.cases import OpenCase
from contracts.classify import classify
from contracts.clock import FakeClock
from contracts.codec import decode
from contracts.common import AgencyKind as A
from contracts.common import Language
from contracts.errors import ContractError
from contracts.events import AlertRequestedEvent, IncidentReportedEvent, SmsJobEvent
from contracts.incident import IncidentCategory, IncidentReported, MandatorySituation
from streams.door import refuse_what_cannot_compose
from streams.emergency.threads import cap_params
from streams.recalls.plan import recall_params
from streams.safety.drills import drill_overdue_alerts
from streams.spikes.outbreak import outbreak_alert
from streams.spikes.window import SpikeRule, observe
from streams.triage import incident_alerts
from tests import sms_directory
from tests.alert_checks import alerts_of, cap, composes_everywhere
from tests.factories import incident
from tests.recall_fixtures import recall_event

CN = "+8613900000000"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
MULTILINE = "1. 立即撤离到室内安全地带。\n2. 关闭门窗，远离河道。\r\n3. 听从学校安排"


def report(**changes) -> IncidentReportedEvent:
    return IncidentReportedEvent.new(IncidentReported.model_validate(incident(**changes)), source="/t", id="r-9")


def test_self_harm_with_the_child_in_danger_composes_for_the_duty_officers_and_the_school():
    event = report(category="self_harm", severity="serious", child_in_danger_now=True)
    refuse_what_cannot_compose(event)
    alerts = incident_alerts(event)
    assert {a.audience.kind for a in alerts} == {"agency_duty_officers", "school_contacts"}
    for alert in alerts:
        composes_everywhere(alert, "测试第一小学")
    agency = next(a for a in alerts if a.audience.kind == "agency_duty_officers")
    assert set(agency.audience.agencies) == {A.PUBLIC_SECURITY, A.HEALTH}
    assert "学生自伤危险事件" in compose(agency, Recipient(CN)).body


@pytest.mark.parametrize("category", list(IncidentCategory))
def test_every_incident_category_has_a_label_in_both_languages(category):
    assert set(EVENTS[category]) == {Language.ZH_CN, Language.EN} and all(EVENTS[category].values())


def test_every_closed_vocabulary_a_template_prints_has_every_label():
    for specs in SLOTS.values():
        for spec in specs:
            if spec.kind is SlotKind.CHOICE and spec.name in LABELS:
                assert set(LABELS[spec.name]) == set(spec.options), spec.name


def test_drill_overdue_with_a_date_deadline_is_rendered_as_a_date():
    [head, bureau] = alerts_of(drill_overdue_alerts("SCH-1", [0, "310115", "2026-05-01", "2026-05-01", None],
                                                    "2026-05-01", 180, datetime(2026, 12, 1, 2, tzinfo=UTC)))
    assert head.params["deadline"] == "2026-12-15"
    assert "SCH-1的疏散演练已逾期，请于2026年12月15日前组织并登记" in compose(head, Recipient(CN)).body
    assert "hold and record it by 15 Dec 2026" in compose(bureau, Recipient(CN, Language.EN)).body


def test_a_cap_instruction_with_line_breaks_is_normalised_at_the_producer_and_composes():
    params = cap_params(cap(instruction=MULTILINE).data)
    assert params["instruction"] == "1. 立即撤离到室内安全地带。 2. 关闭门窗，远离河道。 3. 听从学校安排"
    alert = AlertRequested(alert_id="cap:ml", kind="cap_emergency", priority="emergency", params=params,
                           audience={"kind": "school_list", "school_ids": ["S1"]}, source_event_id="e", reason="t")
    composes_everywhere(alert, "")


def test_a_recall_remedy_with_line_breaks_is_normalised_and_composes():
    params = recall_params(recall_event(remedy="1. 立即停止使用\n2. 联系经销商退货。"))
    assert params["remedy"] == "1. 立即停止使用 2. 联系经销商退货"
    alert = AlertRequested(alert_id="recall:ml", kind="recall", priority="urgent", params=params, source_event_id="e",
                           audience={"kind": "recall_holders", "recall_number": "SAMR-1", "guardian_ids": ["G"]},
                           reason="t")
    body = compose(alert, Recipient(CN)).body
    assert "1. 立即停止使用 2. 联系经销商退货。" in body and ".。" not in body


@pytest.mark.parametrize("raw,expected", [
    ("  a\n\nb\tc ", "a b c"), ("ＡＢＣ１２３，测试。", "ABC123，测试"), ("测\u200b试\u200f\u202e\ufeff", "测试"),
    ("请看 www.example.cn 通知", "请看 通知"), ("。。注意安全.", "注意安全"), ("中" * 70, "中" * 59 + "…"),
    ("e\u0301" * 40, "é" * 40), ("中\u0301" * 40, "中\u0301" * 29 + "…"), ("😀" * 70, "😀" * 59 + "…"), ("\u200b\u200d", ""),
])
def test_free_text_normalisation(raw, expected):
    assert normalise_text(raw, 60) == expected


def test_a_free_text_that_is_only_invisible_characters_is_refused_at_the_door_naming_the_field():
    with pytest.raises(ContractError) as err:
        refuse_what_cannot_compose(cap(event="\u200b\u200f\u202e"))
    assert [e.field for e in err.value.errors] == ["data.event"]
    with pytest.raises(ContractError) as err:
        recall_params(recall_event(product_name="\u200b。"))
    assert [e.field for e in err.value.errors] == ["data.product_name"]


def test_the_escalation_sms_shows_its_deadline_in_beijing_time():
    case = MandatoryReportCase(case_id="CASE-1", report_id="r-1", school_id="S1", district_code="310115", risk="high")
    row = escalation_alert(case, "acknowledge", 3, 1, A.EDUCATION, "310115",
                           datetime(2026, 12, 14, 2, 30, tzinfo=UTC), "alerts", NOW)
    alert = AlertRequestedEvent.model_validate(json.loads(row.value)).data
    assert alert.params["deadline"] == "2026-12-14 10:30"
    assert "请于2026年12月14日10:30前登录儿童保护个案平台" in compose(alert, Recipient(CN)).body
    assert "by 14 Dec 2026 10:30" in compose(alert, Recipient(CN, Language.EN)).body


def test_agency_duty_officers_get_an_agency_wording_naming_the_school_and_its_district(db_url, tmp_path):
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "d")
    [guardians, agency] = incident_alerts(report(school_id="S1", category="fire", severity="serious"))
    alert, _ = AudienceFanout(engine, None, FakeClock())._with_school_name(agency)
    body = compose(alert, Recipient(CN)).body
    assert body.startswith("【儿童安全紧急】测试学校甲（行政区划310115）发生火情。请立即按应急预案响应，赶赴现场并联系学校。")
    assert "勿前往现场" not in body and "您孩子" not in body
    assert "勿前往现场" in compose(guardians, Recipient(CN)).body  # guardians keep theirs


def test_the_outbreak_body_is_chinese_names_the_school_and_speaks_to_officers(db_url, tmp_path):
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "d")
    spike = observe(None, "r-1", NOW.timestamp(), NOW.timestamp(), SpikeRule(3, 86400, 10), children=12)[1]
    assert spike is not None and spike.children == 12, "12 sick pupils in one report are an outbreak"
    [school] = alerts_of([outbreak_alert("school", "S1", "310115", "food_poisoning", spike, NOW)])
    assert set(school.audience.agencies) == {A.HEALTH, A.EDUCATION, A.MARKET_REGULATION}
    body = compose(AudienceFanout(engine, None, FakeClock())._with_school_name(school)[0], Recipient(CN)).body
    assert body.startswith("【儿童安全】测试学校甲短时间内多次报告食物中毒事件，涉及12名儿童，疑似聚集性事件。")
    assert not any(w in body for w in ("S1", "food", "孩子", "watch"))
    [district] = alerts_of([outbreak_alert("district", "310115", "310115", "food_poisoning", spike, NOW)])
    assert compose(district, Recipient(CN)).body.startswith("【儿童安全】行政区划310115内多所学校短时间内报告食物中毒事件")


def test_a_school_food_poisoning_report_tells_health_education_and_market_regulation():
    [notice] = classify(report(category="food_poisoning", severity="moderate").data).notices
    assert notice.audience == "agency_duty_officers"
    assert set(notice.agencies) == {A.HEALTH, A.EDUCATION, A.MARKET_REGULATION}


@pytest.mark.parametrize("category", list(IncidentCategory))
def test_triage_and_case_routing_name_the_same_agencies(category):
    for situations in ([], [MandatorySituation.PRIVATE_PARTS_INJURY], [MandatorySituation.DISABILITY_OR_DEATH_ABNORMAL_CAUSE],
                       [MandatorySituation.OTHER_SERIOUS_HARM_OR_DANGER]):
        r = report(category=category.value, mandatory_situations=[s.value for s in situations]).data
        t = classify(r)
        if not t.mandatory:
            continue
        command = OpenCase(case_id="CASE-1", report_id="r-1", school_id=r.school_id, district_code=r.district_code,
                           category=r.category, severity=r.severity, risk=t.risk, situations=list(t.situations),
                           triggers=list(t.triggers), agencies=[A.PUBLIC_SECURITY], occurred_at=r.occurred_at, reported_at=NOW,
                           children=r.children, summary=r.description, reporter=r.reporter)
        assert set(agency_kinds(command)) == set(t.agencies), (category, situations)


class Sink:
    def __init__(self):
        self.sent = []

    def send(self, key, value):
        self.sent.append(value)

    def flush(self):
        pass


def _broken(priority: str) -> AlertRequestedEvent:
    """An alert a buggy producer could write: a category the template has no label for."""
    alert = AlertRequested(alert_id=f"bug-{priority}", kind="incident_emergency", priority=priority,
                           audience={"kind": "school_guardians", "school_id": "S1"},
                           params={"school_id": "S1", "category": "not_a_category", "action": "现场有人受伤"},
                           source_event_id="e", reason="t")
    return AlertRequestedEvent.new(alert, source="/t", subject=alert.alert_id)


def test_an_emergency_that_cannot_be_composed_goes_out_with_the_safe_body_and_is_counted(db_url, tmp_path):
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "d")
    sink = Sink()
    before = ALERT_FALLBACK_BODIES.labels("emergency")._value.get()
    result = AudienceFanout(engine, sink, FakeClock()).fan_out(_broken("emergency"))
    bodies = {decode(v, SmsJobEvent).data.body for v in sink.sent}
    assert result.emitted == len(sink.sent) > 0
    assert any(b.startswith("【儿童安全紧急】测试学校甲发生紧急情况，请按学校/当地政府通知行动。编号") for b in bodies)
    assert any(b.startswith("[ChildSafe EMERGENCY] An emergency at 测试学校甲") for b in bodies)
    assert not any("现场有人受伤" in b for b in bodies), "never the alert's free text"
    assert ALERT_FALLBACK_BODIES.labels("emergency")._value.get() == before + 1


def test_a_routine_alert_that_cannot_be_composed_is_refused_and_counted(db_url, tmp_path):
    from alerts.errors import TemplateParamError
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "d")
    before = ALERTS_REFUSED_AFTER_ACCEPTANCE.labels("urgent")._value.get()
    with pytest.raises(TemplateParamError):
        AudienceFanout(engine, Sink(), FakeClock()).fan_out(_broken("urgent"))
    assert ALERTS_REFUSED_AFTER_ACCEPTANCE.labels("urgent")._value.get() == before + 1
