"""Composition: templates per kind and language, exercise marking, and the body rules that refuse a message."""

import pytest

from alerts.body_rules import BodyRules, check_body
from alerts.composition import Recipient, alert_ref, compose
from alerts.errors import (
    EmptyBodyRefused,
    SensitiveDetailRefused,
    TemplateParamError,
    TooManySegments,
    UrlToChinaRefused,
)
from alerts.templates import CATALOGUE
from contracts.alert_request import SENSITIVE_KINDS, AlertKind, AlertRequested
from contracts.alert_slots import SlotKind
from contracts.common import Language

CN = "+8613800000001"  # +86 mobile format, used only against the local sandbox
UK = "+447700900001"   # Ofcom drama range

FULL_PARAMS = {
    "school": "测试第一小学", "event": "暴雨", "category": "fire", "product": "测试牌儿童座椅", "model": "T-100", "hazard": "夹伤",
    "recall_number": "RC-2026-001", "drill": "fire", "scope": "school", "area": "测试区", "deadline": "18:00",
}


def request(kind: AlertKind, params=None, **kw) -> AlertRequested:
    return AlertRequested(
        alert_id=kw.pop("alert_id", "alert-0001"), kind=kind, priority=kw.pop("priority", "urgent"),
        audience={"kind": "school_guardians", "school_id": "S0001"}, params=FULL_PARAMS if params is None else params,
        source_event_id="evt-1", reason="test", **kw)


@pytest.mark.parametrize("kind", list(AlertKind))
@pytest.mark.parametrize("lang", [Language.ZH_CN, Language.EN])
def test_every_kind_renders_in_both_languages(kind, lang):
    sms = compose(request(kind), Recipient(UK, lang))
    assert sms.language == lang and 1 <= sms.segments.segments <= 3
    assert alert_ref("alert-0001") in sms.body
    assert sms.segments.encoding == ("UCS-2" if lang == Language.ZH_CN else sms.segments.encoding)


def test_default_language_is_chinese_and_template_text_is_filled():
    sms = compose(request(AlertKind.INCIDENT_EMERGENCY), Recipient(CN))
    assert sms.body.startswith("【儿童安全紧急】测试第一小学发生火情。")


def test_incident_emergency_names_the_event_from_a_closed_vocabulary():
    """What triage sends (school id, category) is enough; an unknown or harm category is refused."""
    params = {"school_id": "S0001", "category": "campus_intrusion_violence"}
    assert "校园安全突发事件" in compose(request(AlertKind.INCIDENT_EMERGENCY, params), Recipient(CN)).body
    assert "a campus security incident" in compose(request(AlertKind.INCIDENT_EMERGENCY, params),
                                                   Recipient(UK, Language.EN)).body
    with pytest.raises(TemplateParamError) as err:
        compose(request(AlertKind.INCIDENT_EMERGENCY, {"category": "not_a_category"}), Recipient(CN))
    assert err.value.field == "params.category"


def test_recipient_context_fills_recipient_specific_slots():
    params = {k: v for k, v in FULL_PARAMS.items() if k != "school"}
    sms = compose(request(AlertKind.OUTBREAK, params), Recipient(CN, context={"school": "测试第二中学"}))
    assert "测试第二中学" in sms.body


def test_missing_parameter_names_the_field():
    with pytest.raises(TemplateParamError) as err:
        compose(request(AlertKind.RECALL, {"product": "测试牌童车", "hazard": "跌落"}), Recipient(CN))
    assert err.value.field == "params.recall_number"


@pytest.mark.parametrize("lang,prefix", [(Language.ZH_CN, "【演练】"), (Language.EN, "[EXERCISE] ")])
@pytest.mark.parametrize("kind", list(AlertKind))
def test_exercise_is_marked_at_the_start_and_real_alerts_never_are(kind, lang, prefix):
    assert compose(request(kind, exercise=True), Recipient(UK, lang)).body.startswith(prefix)
    assert not compose(request(kind, exercise=False), Recipient(UK, lang)).body.startswith(prefix)


def test_ack_line_only_when_asked():
    assert "回复1" in compose(request(AlertKind.DRILL_OVERDUE, requires_ack=True), Recipient(CN)).body
    assert "回复1" not in compose(request(AlertKind.DRILL_OVERDUE), Recipient(CN)).body


@pytest.mark.parametrize("link", ["http://example.cn/a", "https://x.org", "www.example.com", "详见t.cn/Ab3", "example.com.cn"])
def test_a_link_in_free_text_is_removed_so_the_body_composes_for_china(link):
    params = {**FULL_PARAMS, "action": f"请查看{link}"}
    for to in (CN, UK):
        body = compose(request(AlertKind.INCIDENT_EMERGENCY, params), Recipient(to)).body
        assert "请查看" in body and link not in body and "cn/Ab3" not in body
    with pytest.raises(UrlToChinaRefused) as err:  # the body rule itself still stands
        check_body(f"请查看{link}。", CN, BodyRules())
    assert err.value.rule == "no-url-to-cn"


def test_times_and_numbers_are_not_mistaken_for_urls():
    check_body("请于18:00前到达，电话 010-12345678，版本1.2.3。Ref A1B2", CN, BodyRules())


def test_segment_limit_refuses_with_the_rule_name():
    body = "中" * 537  # 9 UCS-2 segments
    with pytest.raises(TooManySegments) as err:
        check_body(body, UK, BodyRules())
    assert err.value.rule == "max-segments" and "9 UCS-2 segments" in str(err.value)
    assert check_body("中" * 536, UK, BodyRules()).segments == 8
    with pytest.raises(TooManySegments):
        check_body("中" * 71, UK, BodyRules(max_segments=1))


def test_empty_body_refused():
    with pytest.raises(EmptyBodyRefused):
        check_body("  ", UK, BodyRules())


def test_overlong_parameter_is_cut_with_an_ellipsis_and_a_required_one_left_empty_is_refused_by_field():
    body = compose(request(AlertKind.CAP_EMERGENCY, {**FULL_PARAMS, "instruction": "很长" * 40}), Recipient(CN)).body
    assert "很长" * 29 + "很…。" in body
    with pytest.raises(TemplateParamError) as err:
        compose(request(AlertKind.CAP_EMERGENCY, {**FULL_PARAMS, "event": "\u200b\u200f。"}), Recipient(CN))
    assert err.value.field == "params.event"


def test_sensitive_templates_have_no_free_text_slot():
    for kind in SENSITIVE_KINDS:
        assert {s.name for s in CATALOGUE[kind].slots} <= {"where", "deadline"}
        assert {s.kind for s in CATALOGUE[kind].slots} <= {SlotKind.CHOICE, SlotKind.DEADLINE}


def test_withheld_value_in_body_is_refused():
    with pytest.raises(SensitiveDetailRefused) as err:
        check_body("请联系测试儿童甲的家长", CN, BodyRules(), withheld=["测试儿童甲"])
    assert err.value.rule == "sensitive-no-detail"
    check_body("【儿童安全】请处理", CN, BodyRules(), withheld=["儿童"], fixed_text="【儿童安全】")  # template word, not a leak
