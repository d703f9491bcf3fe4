"""The regulator's recall desk, the public recall page and guardians' self-service over plain HTTP: every refusal
names its field (4xx, never 5xx), the preview counts reach with the stream's own grading, codes are hashed,
expire and are rate-limited, and registrations travel the holdings path (the case outbox to the holdings topic).

The intake and the disclosure feed are faked at their HTTP port (a small aiohttp app that records what it got);
the SMS gateway at its port (`send`). The browser test (tests/integration/test_console_recalls_browser.py)
runs the real intake, streams worker, Twilio SDK and sandbox."""

from __future__ import annotations

import re
from datetime import timedelta
from xml.etree import ElementTree as ET

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from alerts.gateway import SentMessage
from console.accounts import create_user
from console.guardians import CodePolicy, GuardianCode
from console.recalls import ConsoleRecall, RecallReview, reach
from consumers.cases.tracking import OutboxMessage
from consumers.store.core import Agency
from consumers.store.directory import Guardian, OptOut, ProductRegistration
from contracts.codec import decode
from contracts.events import AlertRequestedEvent, ProductHoldingsEvent
from contracts.recall_match import RecallKeys
from contracts.registration import ProductHoldings
from contracts.topics import ALERTS_REQUESTED, REGISTRATIONS
from streams.recalls.holdings import Holding, HoldingsIndex
from tests.cases_fixtures import CaseWorld
from tests.console_fixtures import FAST_HASHER, PASSWORD, Browserless, add_people, build_app, make_console, start_client
from tests.databases import migrated_template, sqlite_copy
from tests.recall_fixtures import OTHER_GTIN, SCOOTER_GTIN, recall

REGULATOR_UNIT = "samr-310115"
HOLDINGS_T, ALERTS_T = REGISTRATIONS.name("t"), ALERTS_REQUESTED.name("t")
PHONE = "+8619900077001"  # the sandbox-only +86 199 block the directory generator documents
NASTY = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\n\r\n", "１２３", "😀" * 300, "a\u200bb", "\u202eevil", "x" * 5000, "<script>",
                     "6901234567893", "６９０１２３４５６７８９２", "690123456789\u200b2", "+86 199 0007 7001"]),
)
REGISTRATIONS_ROWS = [  # id, holder, name, brand, model, batch, barcode
    ("R1", "G-EXACT", "儿童滑板车", "示例牌", "HB-200", "20260601", SCOOTER_GTIN),
    ("R2", "G-STRONG", "儿童滑板车", "示例牌", "HB-200", None, None),
    ("R3", "G-WEAK", "儿童滑板车", None, None, None, None),
    ("R4", "G-LOOK", "儿童滑板车", "示例牌", "HB-200", "20260601", OTHER_GTIN),
]


class FakeGateway:
    """The SMS gateway port: records what would have been sent."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []

    def send(self, *, to: str, body: str, status_callback: str, validity_seconds: int | None = None):
        self.sent.append((to, body))
        return SentMessage(sid=f"SM{len(self.sent):032d}", status="queued")


class FakeWorkerHttp:
    """The streams worker's HTTP port: `POST /v1/recalls` (202, or 422 as the intake would) and the JSON feed."""

    def __init__(self):
        self.posted: list[dict] = []
        self.feed: list[dict] = []
        self.app = web.Application()
        self.app.add_routes([web.post("/v1/recalls", self.recalls), web.get("/v1/recalls/published", self.published)])

    async def recalls(self, request):
        body = await request.json()
        self.posted.append(body)
        return web.json_response({"id": f"ev-{len(self.posted)}", "accepted": True}, status=202)

    async def published(self, request):
        return web.json_response({"page": 1, "per_page": 100, "total": len(self.feed), "items": self.feed})


@pytest.fixture()
async def world(db_url):
    w = CaseWorld(db_url)
    add_people(w.transaction, w.clock.now())
    with w.transaction() as s:
        s.add(Agency(id=REGULATOR_UNIT, kind="market_regulation", district_code="310115", name="测试区市场监管局"))
        s.flush()
        create_user(s, "samr1", PASSWORD, "agency_duty_officer", REGULATOR_UNIT, "测试监管员", w.clock.now(),
                    hasher=FAST_HASHER)
        for rid, holder, name, brand, model, batch, barcode in REGISTRATIONS_ROWS:
            s.add(Guardian(id=holder, phone=f"+86199000770{len(holder) % 10}", language="zh-CN"))
            s.add(ProductRegistration(id=rid, holder_kind="guardian", holder_id=holder, product_kind="toy",
                                      product_name=name, brand=brand, model=model, batch=batch, barcode=barcode))
    yield w
    w.close()


@pytest.fixture()
async def stack(world):
    fake = FakeWorkerHttp()
    server = TestServer(fake.app)
    await server.start_server()
    gateway = FakeGateway()
    console = make_console(world, intake_url=str(server.make_url("")).rstrip("/"))
    console.recall_topics, console.code_gateway = (HOLDINGS_T, ALERTS_T), gateway
    console.guardian_codes = CodePolicy(per_number=3, per_client=5, ttl=timedelta(minutes=10), max_attempts=3)
    app = build_app(console)
    client = await start_client(app)
    yield {"client": client, "fake": fake, "gateway": gateway, "world": world}
    await client.close()
    await server.close()


def form(**changes) -> dict:
    base = {"recall_number": "SAMR-T-1", "producer": "示例玩具有限公司", "product_name": "儿童滑板车",
            "product_kind": "toy", "brand": "示例牌", "model": "HB-200", "barcode": SCOOTER_GTIN, "batch": "20260601",
            "hazard_type": "机械伤害", "hazard_description": "折叠机构可能意外松脱。", "remedy": "停止使用，联系经销商免费更换",
            "risk_level": "high", "sales_regions": "310115", "idempotency_key": "k" * 32}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


async def regulator(stack) -> Browserless:
    person = Browserless(stack["client"])
    assert (await person.sign_in("samr1")).status == 303
    return person


# ---- the regulator ----

async def test_preview_shows_the_sms_as_composed_its_segments_and_reach_by_grade(stack):
    person = await regulator(stack)
    resp = await person.post("/recall-desk/preview", form())
    html = await resp.text()
    assert resp.status == 200, html
    zh = re.search(r'id="sms-zh" lang="zh-CN">([^<]+)<', html).group(1)
    assert zh == ("【儿童安全召回】儿童滑板车（型号HB-200）存在机械伤害风险。停止使用，联系经销商免费更换。"
                  "召回编号SAMR-T-1，编号XXXXXXXX")
    assert "2 条短信计费段" in html or "1 条短信计费段" in html
    # exact: R1 (barcode + batch); strong: R2 (brand + model); weak: R3 (name only); R4's other barcode: none
    assert "完全匹配（条码+批次）</dt><dd id=\"reach-exact\">1 个持有者" in html
    assert "id=\"reach-strong\">1 个持有者" in html and "id=\"reach-weak\">1 个持有者" in html
    assert "将收到短信：2 个持有者" in html
    assert stack["fake"].posted == []  # a preview sends nothing


async def test_publishing_goes_to_the_intake_and_lists_the_recall_with_its_reach_and_a_review(stack):
    person = await regulator(stack)
    resp = await person.post("/recall-desk", form())
    assert resp.status == 303, await resp.text()
    assert stack["fake"].posted[0]["recall_number"] == "SAMR-T-1"
    assert stack["fake"].posted[0]["action"] == "published" and stack["fake"].posted[0]["barcode"] == SCOOTER_GTIN
    listing = await (await stack["client"].get("/recall-desk")).text()
    assert "SAMR-T-1" in listing and "1；" in listing
    with stack["world"].factory() as s:
        row = s.get(ConsoleRecall, "SAMR-T-1")
        assert (row.exact, row.strong, row.weak, row.unit_id) == (1, 1, 1, REGULATOR_UNIT)
        review = s.scalars(select(RecallReview)).one()
        assert (review.holder_id, review.state) == ("G-WEAK", "pending")
    again = await person.post("/recall-desk", form())  # the number is taken now
    assert again.status == 409


async def test_confirming_a_weak_match_notifies_that_holder_and_withdrawal_dismisses_the_rest(stack):
    person = await regulator(stack)
    await person.post("/recall-desk", form())
    with stack["world"].factory() as s:
        review_id = s.scalars(select(RecallReview.id)).one()
    resp = await person.post(f"/recall-desk/SAMR-T-1/review/{review_id}", {"decision": "confirm"})
    assert resp.status == 303, await resp.text()
    with stack["world"].factory() as s:
        out = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == ALERTS_T)).one()
    alert = decode(out.value, AlertRequestedEvent).data
    assert alert.audience.guardian_ids == ["G-WEAK"] and alert.kind.value == "recall"
    assert alert.params["recall_number"] == "SAMR-T-1"
    twice = await person.post(f"/recall-desk/SAMR-T-1/review/{review_id}", {"decision": "confirm"})
    assert twice.status == 409
    bad = await person.post(f"/recall-desk/SAMR-T-1/review/{review_id}", {"decision": "maybe"})
    assert bad.status == 422
    wd = await person.post("/recall-desk/SAMR-T-1/withdraw", {"idempotency_key": "w" * 32})
    assert wd.status == 303 and stack["fake"].posted[-1]["action"] == "withdrawn"
    detail = await (await stack["client"].get("/recall-desk/SAMR-T-1")).text()
    assert "已撤回" in detail and 'id="withdraw"' not in detail
    again = await person.post("/recall-desk/SAMR-T-1/withdraw", {"idempotency_key": "x" * 32})
    assert again.status == 409


async def test_an_update_is_previewed_and_sent_as_updated(stack):
    person = await regulator(stack)
    await person.post("/recall-desk", form())
    preview = await person.post("/recall-desk/SAMR-T-1/preview", form(remedy="立即停止使用并退货"))
    assert preview.status == 200 and "立即停止使用并退货" in await preview.text()
    sent = await person.post("/recall-desk/SAMR-T-1", form(remedy="立即停止使用并退货", idempotency_key="u" * 32))
    assert sent.status == 303 and stack["fake"].posted[-1]["action"] == "updated"


@pytest.mark.parametrize("field,value,why", [
    ("barcode", "6901234567893", "check digit"),  # the scooter's GTIN with a wrong last digit
    ("barcode", "12345", "格式不正确"),
    ("product_name", "", "必填"),
    ("risk_level", "extreme", "请从列表中选择"),
    ("sales_regions", "31011", "格式不正确"),
    ("production_to", "2020-01-01", ""),
])
async def test_a_bad_field_is_refused_beside_that_field(stack, field, value, why):
    person = await regulator(stack)
    extra = {"production_from": "2026-01-01"} if field == "production_to" else {}
    resp = await person.post("/recall-desk/preview", form(**{field: value}, **extra))
    html = await resp.text()
    assert resp.status == 422, html
    name = "(form)" if field == "production_to" else field
    assert f'id="err-{name}"' in html and why in html
    assert stack["fake"].posted == []


async def test_only_market_regulators_may_use_the_desk(stack):
    for username in ("police1", "civil1", "officer1"):
        person = Browserless(stack["client"])
        await person.sign_in(username)
        assert (await stack["client"].get("/recall-desk", allow_redirects=False)).status == 403
        assert (await person.post("/recall-desk", form())).status == 403
    assert stack["fake"].posted == []
    stack["client"].session.cookie_jar.clear()
    anonymous = await stack["client"].get("/recall-desk", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/signin")


async def test_another_regulators_recall_is_not_found(stack, world):
    person = await regulator(stack)
    await person.post("/recall-desk", form())
    with world.transaction() as s:
        s.add(Agency(id="samr-other", kind="market_regulation", district_code="310116", name="测试另一区市场监管局"))
        s.flush()
        create_user(s, "samr2", PASSWORD, "agency_duty_officer", "samr-other", "测试监管员二", world.clock.now(),
                    hasher=FAST_HASHER)
    other = Browserless(stack["client"])
    await other.sign_in("samr2")
    assert (await stack["client"].get("/recall-desk/SAMR-T-1")).status == 404
    assert (await other.post("/recall-desk/SAMR-T-1/withdraw", {})).status == 404
    assert (await other.post("/recall-desk", form())).status == 409  # the number is someone else's


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({k: NASTY for k in ("recall_number", "product_name", "brand", "model", "barcode",
                                                         "batch", "remedy", "sales_regions", "risk_level")}))
async def test_nasty_recall_forms_are_refused_by_field_or_previewed_never_a_server_error(stack, values):
    person = await regulator(stack)
    resp = await person.post("/recall-desk/preview", form(**values))
    assert resp.status in (200, 422), await resp.text()
    if resp.status == 422:
        assert 'class="field-error"' in await resp.text()


_REACH_DB: dict = {}


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(st.sampled_from(["G1", "G2", "G3", "S1"]), st.sampled_from(["儿童滑板车", "滑板车", None]),
                               st.sampled_from(["示例牌", "ＯＴＨＥＲ", None]), st.sampled_from(["HB-200", "ｈｂ２００", "HB-300", None]),
                               st.sampled_from(["20260601", "X", None]), st.sampled_from([SCOOTER_GTIN, OTHER_GTIN, None])),
                     max_size=12))
def test_the_preview_counts_exactly_what_the_streams_index_matches(rows, tmp_path_factory):
    """The console's reach and the worker's HoldingsIndex grade the same registrations identically."""
    from sqlalchemy import delete

    from consumers.store.db import make_engine, session_factory, transaction

    if "factory" not in _REACH_DB:  # one migrated database for every example, emptied each time
        url = sqlite_copy(migrated_template(), tmp_path_factory.mktemp("reach") / "r.db")
        _REACH_DB["factory"] = session_factory(make_engine(url))
    factory = _REACH_DB["factory"]
    index = HoldingsIndex()
    by_holder: dict[str, list[dict]] = {}
    with transaction(factory) as s:
        s.execute(delete(ProductRegistration))
        for n, (holder, name, brand, model, batch, barcode) in enumerate(rows):
            s.add(ProductRegistration(id=f"P{n}", holder_kind="school" if holder == "S1" else "guardian",
                                      holder_id=holder, product_kind="toy", product_name=name, brand=brand,
                                      model=model, batch=batch, barcode=barcode))
            by_holder.setdefault(holder, []).append(
                {"registration_id": f"P{n}", "product_kind": "toy", "product_name": name or "toy", "brand": brand,
                 "model": model, "batch": batch, "barcode": barcode})
    for holder, products in by_holder.items():
        h = ProductHoldings.model_validate({"holder_kind": "school" if holder == "S1" else "guardian",
                                            "holder_id": holder, "updated_at": "2026-11-29T01:00:00+00:00",
                                            "products": [{k: v for k, v in p.items() if v is not None}
                                                         for p in products]})
        index.put(h.holder_key, Holding.of(0, h))
    notice = recall(recall_number="SAMR-P-1")
    with factory() as s:
        counts, weak = reach(s, notice)
    matches = index.match(0, RecallKeys.of(notice))
    assert counts == {g: sum(1 for m in matches if m.grade.name.lower() == g) for g in ("weak", "strong", "exact")}
    assert sorted(w[1] for w in weak) == sorted(m.holder_id for m in matches if m.grade.name == "WEAK")


# ---- the public page ----

async def test_the_public_page_lists_and_searches_the_feed_and_atom_has_the_same_entries(stack):
    entry = {"recall_number": "SAMR-T-9", "status": "published", "published_on": "2026-11-20", "producer": "示例玩具有限公司",
             "product_name": "儿童滑板车", "product_kind": "toy", "brand": "示例牌", "model": "HB-200", "batch": None,
             "barcode": SCOOTER_GTIN, "production_from": None, "production_to": None, "hazard_type": "机械伤害",
             "hazard_description": "折叠机构可能意外松脱。", "remedy": "停止使用", "risk_level": "high",
             "sales_regions": [], "notice_id": "ev-9", "received_at": "2026-11-29T01:00:00+00:00",
             "holder": "G-EXACT"}  # a field the feed never has: the page shows only its public whitelist
    other = {**entry, "recall_number": "SAMR-T-10", "product_name": "婴儿床", "brand": "测试童床", "model": "BB-12",
             "barcode": None}
    stack["fake"].feed = [entry, other]
    client = stack["client"]
    page = await client.get("/public/recalls")  # no sign-in
    html = await page.text()
    assert page.status == 200 and "SAMR-T-9" in html and "SAMR-T-10" in html and "G-EXACT" not in html
    found = await (await client.get("/public/recalls", params={"q": "ｈｂ－２００"})).text()  # full-width
    assert "SAMR-T-9" in found and "SAMR-T-10" not in found
    none = await (await client.get("/public/recalls", params={"q": "\u200b不存在的产品"})).text()
    assert "没有符合的召回" in none
    atom = await client.get("/public/recalls.atom")
    assert atom.status == 200 and atom.content_type == "application/atom+xml"
    root = ET.fromstring(await atom.read())
    ns = {"a": "http://www.w3.org/2005/Atom"}
    ids = [e.findtext("a:id", namespaces=ns) for e in root.findall("a:entry", ns)]
    assert ids == ["urn:childsafe:recall:SAMR-T-9", "urn:childsafe:recall:SAMR-T-10"]
    assert b"G-EXACT" not in await atom.read()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=NASTY)
async def test_any_search_answers_a_page(stack, q):
    resp = await stack["client"].get("/public/recalls", params={"q": q})
    assert resp.status == 200


# ---- guardians ----

async def open_page(client) -> str:
    html = await (await client.get("/my")).text()
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def ask_code(client, phone: str = PHONE):
    pre = await open_page(client)
    return await client.post("/my/code", data={"csrf": pre, "phone": phone}, allow_redirects=False), pre


def code_sent(gateway, phone: str = PHONE) -> str:
    to, body = gateway.sent[-1]
    assert to == phone
    return re.search(r"\d{6}", body).group(0)


async def confirm(client, pre: str, code: str, phone: str = PHONE):
    return await client.post("/my/confirm", data={"csrf": pre, "phone": phone, "code": code}, allow_redirects=False)


async def signed_guardian(stack) -> str:
    client = stack["client"]
    resp, pre = await ask_code(client)
    assert resp.status == 200, await resp.text()
    assert (await confirm(client, pre, code_sent(stack["gateway"]))).status == 303
    html = await (await client.get("/my")).text()
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


async def test_a_code_is_sent_hashed_at_rest_and_confirms_the_phone_once(stack):
    client, gateway = stack["client"], stack["gateway"]
    resp, pre = await ask_code(client, "+86 199 0007 7001")
    assert resp.status == 200 and "已发送到 +8619900077001" in await resp.text()
    code = code_sent(gateway)
    with stack["world"].factory() as s:
        row = s.scalars(select(GuardianCode)).one()
    assert code not in row.code_hash and row.code_hash.startswith("$argon2") and PHONE not in row.phone_digest
    wrong = await confirm(client, pre, "000000" if code != "000000" else "111111")
    assert wrong.status == 422 and "验证码不正确" in await wrong.text()
    ok = await confirm(client, pre, code)
    assert ok.status == 303 and ok.cookies["cs_guardian"]["httponly"]
    again = await confirm(client, pre, code)  # used up
    assert again.status == 422 and "已过期或未申请" in await again.text()


async def test_an_expired_code_is_refused(stack):
    client = stack["client"]
    _, pre = await ask_code(client)
    code = code_sent(stack["gateway"])
    stack["world"].clock.advance(timedelta(minutes=10, seconds=1))
    resp = await confirm(client, pre, code)
    html = await resp.text()
    assert resp.status == 422 and 'id="err-code"' in html and "已过期" in html


async def test_too_many_wrong_codes_kill_the_code(stack):
    client = stack["client"]
    _, pre = await ask_code(client)
    code = code_sent(stack["gateway"])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        assert (await confirm(client, pre, wrong)).status == 422
    dead = await confirm(client, pre, code)
    assert dead.status == 429 and "错误次数过多" in await dead.text()


async def test_too_many_code_requests_per_number_and_per_client_are_refused(stack):
    client, gateway = stack["client"], stack["gateway"]
    for _ in range(3):
        assert (await ask_code(client))[0].status == 200
    refused = (await ask_code(client))[0]
    assert refused.status == 429 and "该号码请求验证码过于频繁" in await refused.text()
    assert len(gateway.sent) == 3
    for n in range(2):  # other numbers, same client: 5 per client
        assert (await ask_code(client, f"+861990007710{n}"))[0].status == 200
    by_client = (await ask_code(client, "+8619900077109"))[0]
    assert by_client.status == 429 and "此设备（网络地址）请求验证码过于频繁" in await by_client.text()
    stack["world"].clock.advance(timedelta(hours=1, seconds=1))  # the window passes
    assert (await ask_code(client))[0].status == 200


async def test_other_writings_of_one_number_share_its_limit_and_the_refusal_says_when(stack):
    client, gateway = stack["client"], stack["gateway"]
    writings = ["+86 199-0007-7001", "008619900077001", "１９９ ０００７ ７００１", "\u200f(+86)199\u30000007\u00a07001"]
    answers = [(await ask_code(client, w))[0] for w in writings]
    assert [a.status for a in answers] == [200, 200, 200, 429] and len(gateway.sent) == 3
    assert {to for to, _ in gateway.sent} == {PHONE}, "one number, however written"
    refused = answers[-1]
    assert refused.headers["Retry-After"] == "3600" and "请 60 分钟后再试" in await refused.text()


async def test_a_code_form_without_its_csrf_is_refused(stack):
    client = stack["client"]
    await open_page(client)
    resp = await client.post("/my/code", data={"csrf": "forged", "phone": PHONE}, allow_redirects=False)
    assert resp.status == 403 and stack["gateway"].sent == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(phone=NASTY, code=NASTY)
async def test_nasty_phones_and_codes_are_refused_by_field(stack, phone, code):
    client = stack["client"]
    pre = await open_page(client)
    resp = await client.post("/my/code", data={"csrf": pre, "phone": phone}, allow_redirects=False)
    assert resp.status in (200, 422, 429), await resp.text()
    if resp.status == 422:
        assert 'id="err-phone"' in await resp.text()
    resp = await client.post("/my/confirm", data={"csrf": pre, "phone": phone, "code": code}, allow_redirects=False)
    assert resp.status in (303, 422, 429), await resp.text()


async def test_a_registration_is_published_as_the_guardians_holdings_and_can_be_removed(stack):
    client = stack["client"]
    csrf = await signed_guardian(stack)
    bad = await client.post("/my/products", data={"csrf": csrf, "product_kind": "toy", "product_name": "儿童滑板车",
                                                  "barcode": "6901234567893"}, allow_redirects=False)
    assert bad.status == 422 and 'id="err-barcode"' in await bad.text()
    neither = await client.post("/my/products", data={"csrf": csrf, "product_kind": "toy", "product_name": "滑板车",
                                                      "brand": "示例牌"}, allow_redirects=False)
    assert neither.status == 422 and "同时填写品牌和型号" in await neither.text()
    ok = await client.post("/my/products", data={"csrf": csrf, "product_kind": "toy", "product_name": "儿童滑板车",
                                                 "barcode": SCOOTER_GTIN, "batch": "20260601"}, allow_redirects=False)
    assert ok.status == 303, await ok.text()
    with stack["world"].factory() as s:
        reg = s.scalars(select(ProductRegistration).where(ProductRegistration.barcode == SCOOTER_GTIN,
                                                          ProductRegistration.holder_id.like("self-%"))).one()
        guardian = s.get(Guardian, reg.holder_id)
        out = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == HOLDINGS_T)).one()
    assert guardian.phone == PHONE
    holdings = decode(out.value, ProductHoldingsEvent).data
    assert out.key == f"guardian:{guardian.id}".encode()
    assert [(p.barcode, p.batch) for p in holdings.products] == [(SCOOTER_GTIN, "20260601")]
    page = await (await client.get("/my")).text()
    assert SCOOTER_GTIN in page
    removed = await client.post(f"/my/products/{reg.id}/remove", data={"csrf": csrf}, allow_redirects=False)
    assert removed.status == 303
    with stack["world"].factory() as s:
        last = s.scalars(select(OutboxMessage).where(OutboxMessage.topic == HOLDINGS_T)
                         .order_by(OutboxMessage.created_at.desc(), OutboxMessage.id)).all()
    assert any(decode(m.value, ProductHoldingsEvent).data.products == [] for m in last)
    missing = await client.post(f"/my/products/{reg.id}/remove", data={"csrf": csrf}, allow_redirects=False)
    assert missing.status == 404
    forged = await client.post("/my/products", data={"csrf": "nope", "product_name": "x"}, allow_redirects=False)
    assert forged.status == 403


async def test_language_and_routine_messages_with_emergencies_still_reaching(stack):
    client = stack["client"]
    csrf = await signed_guardian(stack)
    page = await (await client.get("/my")).text()
    assert "紧急预警短信（如灾害、儿童走失）仍会发送给您" in page
    assert (await client.post("/my/language", data={"csrf": csrf, "language": "en"}, allow_redirects=False)).status == 303
    assert (await client.post("/my/language", data={"csrf": csrf, "language": "fr"}, allow_redirects=False)).status == 422
    assert (await client.post("/my/routine", data={"csrf": csrf, "routine": "off"}, allow_redirects=False)).status == 303
    with stack["world"].factory() as s:
        guardian = s.scalars(select(Guardian).where(Guardian.phone == PHONE)).one()
        assert guardian.language == "en" and s.get(OptOut, PHONE) is not None
    assert "您已退订常规短信" in await (await client.get("/my")).text()
    assert (await client.post("/my/routine", data={"csrf": csrf, "routine": "on"}, allow_redirects=False)).status == 303
    with stack["world"].factory() as s:
        assert s.get(OptOut, PHONE) is None
    assert (await client.post("/my/routine", data={"csrf": csrf, "routine": "maybe"},
                              allow_redirects=False)).status == 422


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.fixed_dictionaries({k: NASTY for k in ("product_kind", "product_name", "barcode", "brand", "model",
                                                         "batch")}))
async def test_nasty_registrations_are_refused_by_field_or_saved(stack, values):
    client = stack["client"]
    if not client.session.cookie_jar.filter_cookies(client.make_url("/")).get("cs_guardian"):
        stack["world"].clock.advance(timedelta(hours=2))  # a fresh rate-limit window for this example's code
        await signed_guardian(stack)
    html = await (await client.get("/my")).text()
    csrf = re.search(r'name="csrf" value="([^"]+)"', html).group(1)
    resp = await client.post("/my/products", data={"csrf": csrf, **values}, allow_redirects=False)
    assert resp.status in (303, 422), await resp.text()
    if resp.status == 422:
        assert 'class="field-error"' in await resp.text()
