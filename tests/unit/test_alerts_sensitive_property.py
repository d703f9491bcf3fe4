"""Over generated cases: a sensitive-case SMS never carries an injected name, reporter or case detail.

Names and details are made up (测试/Test prefixes and fictional syllables); 2,000 cases from a fixed seed.
"""

import random

import pytest

from alerts.composition import Recipient, compose
from alerts.errors import TemplateParamError
from alerts.templates import CATALOGUE
from contracts.alert_request import SENSITIVE_KINDS, AlertRequested
from contracts.common import Language

SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"
GIVEN = "甲乙丙丁戊己庚辛壬癸明华丽芳伟强磊军洋勇艳杰娟涛"
LATIN = ["Test Child", "Testa Minor", "Example Reporter", "Demo Kid", "Sample Person", "Zyx Testname"]
DETAILS = ["遭受殴打", "疑似性侵", "怀孕", "被拐卖", "家庭暴力致多处伤", "长期无人照料", "在测试路12号被发现",
           "bruises on arms", "seen at Test Street 5", "reported by neighbour", "S0001-3班", "身份证110101200001011234"]
KEYS = ["child_name", "name", "reporter", "reporter_phone", "detail", "description", "school", "class", "address",
        "note", "guardian", "victim", "suspect", "summary", "event"]


def fake_name(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(LATIN) + f" {rng.randint(1, 999):03d}"
    return "测试" + rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def generated_case(rng: random.Random):
    kind = rng.choice(sorted(SENSITIVE_KINDS))
    injected = {k: (fake_name(rng) if rng.random() < 0.5 else rng.choice(DETAILS)) for k in rng.sample(KEYS, rng.randint(1, 6))}
    params = dict(injected)
    if rng.random() < 0.5:
        params["where"] = rng.choice(["platform", "duty_desk", "police_station", "school_office"])
    if rng.random() < 0.3:
        params["deadline"] = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    context = {rng.choice(KEYS): fake_name(rng)} if rng.random() < 0.5 else {}
    request = AlertRequested(
        alert_id=f"alert-{rng.randint(1, 10**9)}", kind=kind, priority=rng.choice(["emergency", "urgent", "normal"]),
        audience={"kind": "school_guardians", "school_id": "S0001"}, params=params,
        exercise=rng.random() < 0.3, requires_ack=rng.random() < 0.3, source_event_id="evt-1", reason="generated")
    lang = rng.choice([Language.ZH_CN, Language.EN])
    return request, Recipient("+8613800000001", lang, context), [*injected.values(), *context.values()]


def test_sensitive_bodies_never_contain_injected_names_or_details():
    rng = random.Random(20261129)
    for _ in range(2000):
        request, recipient, injected = generated_case(rng)
        body = compose(request, recipient).body
        for value in injected:
            assert value not in body, (request.kind, value, body)
        for part in (v.split()[0] for v in injected if len(v.split()[0]) >= 3):
            assert part not in body, (request.kind, part, body)


@pytest.mark.parametrize("kind", sorted(SENSITIVE_KINDS))
@pytest.mark.parametrize("slot,value", [("where", "测试儿童甲家"), ("deadline", "测试儿童甲"), ("where", "Test Child 001")])
def test_a_name_put_into_a_sensitive_slot_is_refused_naming_the_slot(kind, slot, value):
    if slot not in CATALOGUE[kind].slot_names:
        pytest.skip(f"{kind} has no {slot} slot")
    request = AlertRequested(alert_id="a-1", kind=kind, priority="emergency",
                             audience={"kind": "school_guardians", "school_id": "S0001"}, params={slot: value},
                             source_event_id="evt-1", reason="test")
    with pytest.raises(TemplateParamError) as err:
        compose(request, Recipient("+8613800000001"))
    assert err.value.field == f"params.{slot}"
