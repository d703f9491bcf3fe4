"""Recalls in Debian's Chromium, end to end on the real broker and PostgreSQL: a guardian confirms a phone by
the SMS code the sandbox received (sent through the twilio SDK), registers a scooter; a market regulator
previews a recall of it (the SMS body, its segments, the reach by grade), publishes it through the intake,
and sees its reach and delivery; the guardian's phone receives the recall's SMS at the sandbox; the public
recall page shows it (searchable, with Atom) and never any holder data; a weak match confirmed in the review
queue is told at the sandbox too, and the recall is withdrawn. Every page: screenshots at 390 px and
desktop width, axe-core with no serious or critical violation."""

from __future__ import annotations

import re
import uuid
from xml.etree import ElementTree as ET

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from alerts.sandbox import FaultPlan
from console.accounts import create_user
from consumers.store.core import Agency
from consumers.store.db import transaction
from consumers.store.directory import Guardian, ProductRegistration
from ops.bootstrap import run_escalation
from tests.cases_fixtures import seed_organisations
from tests.console_fixtures import FAST_HASHER, PASSWORD
from tests.integration.console_browser import ConsoleStack, check_page, new_page, sign_in
from tests.integration.helpers import read_topic, settings_for
from tests.recall_fixtures import SCOOTER_GTIN
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration

PHONE = "+8619900088001"  # the sandbox-only +86 199 block
WEAK_PHONE = "+8619900088002"  # a directory guardian whose scooter is registered by name only: a weak match
REGULATOR = "samr-test-310115"
NUMBER = f"SAMR-BR-{uuid.uuid4().hex[:6].upper()}"


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_url, tmp_path_factory):
    with ConsoleStack(kafka_bootstrap, postgres_url, tmp_path_factory.mktemp("recalls-console"), "rc") as stack:
        _, token = stack.intake_token(["incidents", "safety-reports", "recalls"], label="console")
        worker = stack.streams_worker(token)
        sandbox = stack.sandbox(FaultPlan())
        settings = settings_for(kafka_bootstrap, stack.namespace, stack.db_url, sandbox, console_intake_url=worker.url,
                                console_intake_token=token, run_dir=stack.run_dir, case_tick_seconds=0.3)
        console = stack.console(settings)
        with transaction(console.factory) as s:
            seed_organisations(s)
            s.add(Agency(id=REGULATOR, kind="market_regulation", district_code="310115", name="测试区市场监督管理局"))
            s.flush()
            s.add(Guardian(id="G-WEAK-BR", phone=WEAK_PHONE, language="zh-CN"))
            s.add(ProductRegistration(id="BR-WEAK", holder_kind="guardian", holder_id="G-WEAK-BR",
                                      product_kind="toy", product_name="儿童滑板车"))
            create_user(s, "samr1", PASSWORD, "agency_duty_officer", REGULATOR, "测试监管员", console.clock.now(),
                        hasher=FAST_HASHER)
        stack.thread(run_escalation, settings)  # publishes the outbox
        url = stack.serve(console)
        browser = stack.browser(waiting_for=[worker])
        stack.sms_workers(settings)
        yield {"console": console, "url": url, "browser": browser, "sandbox": sandbox,
               "namespace": stack.namespace, "bootstrap": kafka_bootstrap}


def test_guardian_registers_regulator_publishes_guardian_gets_the_recall_sms(stack):
    sandbox = stack["sandbox"]
    # ---- a guardian confirms the phone by the code the sandbox received, then registers a scooter ----
    guardian = new_page(stack["browser"], stack["url"])
    guardian.goto("/my")
    check_page(guardian, "guardian-phone")
    guardian.fill("#phone", PHONE)
    guardian.click("#send-code")
    expect(guardian.locator("#code")).to_be_visible()
    check_page(guardian, "guardian-code")
    texts = wait_for(lambda: [m for m in sandbox.messages(PHONE) if "验证码" in m["body"]], timeout=30)
    code = re.search(r"\d{6}", texts[-1]["body"]).group(0)
    guardian.fill("#code", "000000" if code != "000000" else "111111")
    guardian.click("#confirm")
    expect(guardian.locator("#err-code")).to_contain_text("验证码不正确")
    guardian.fill("#code", code)
    guardian.click("#confirm")
    expect(guardian.locator("#emergency-note")).to_contain_text("紧急预警短信")
    guardian.select_option("#product_kind", "toy")
    guardian.fill("#product_name", "儿童滑板车")
    guardian.fill("#barcode", SCOOTER_GTIN[:-1] + str((int(SCOOTER_GTIN[-1]) + 1) % 10))  # a wrong check digit
    guardian.click("#add-product")
    expect(guardian.locator("#err-barcode")).to_be_visible()
    guardian.fill("#barcode", SCOOTER_GTIN)
    guardian.fill("#batch", "20260601")
    guardian.click("#add-product")
    expect(guardian.locator("[data-registration]")).to_contain_text(SCOOTER_GTIN)
    check_page(guardian, "guardian-products")
    # the holdings record went out through the outbox and the worker indexed it (a changelog record)
    changelog = f"{stack['namespace']}-streams-recall-holdings-changelog"
    assert read_topic(stack["bootstrap"], changelog, until=lambda rs: len(rs) >= 1, timeout=60)

    # ---- the regulator previews, publishes and sees the reach ----
    regulator = new_page(stack["browser"], stack["url"])
    sign_in(regulator, "samr1", PASSWORD)
    regulator.goto("/recall-desk")
    check_page(regulator, "recall-desk")
    regulator.fill("#recall_number", NUMBER)
    regulator.fill("#producer", "示例玩具有限公司")
    regulator.fill("#product_name", "儿童滑板车")
    regulator.select_option("#product_kind", "toy")
    regulator.fill("#brand", "示例牌")
    regulator.fill("#model", "HB-200")
    regulator.fill("#barcode", SCOOTER_GTIN[:-1] + "0" if SCOOTER_GTIN[-1] != "0" else SCOOTER_GTIN[:-1] + "1")
    regulator.fill("#batch", "20260601")
    regulator.fill("#hazard_type", "机械伤害")
    regulator.fill("#hazard_description", "折叠机构可能意外松脱。")
    regulator.fill("#remedy", "停止使用，联系经销商免费更换")
    regulator.select_option("#risk_level", "high")
    regulator.fill("#sales_regions", "310115")
    regulator.click("#preview")
    expect(regulator.locator("#err-barcode")).to_be_visible()  # the check digit, refused beside the field
    regulator.fill("#barcode", SCOOTER_GTIN)
    regulator.click("#preview")
    expect(regulator.locator("#sms-zh")).to_contain_text(f"召回编号{NUMBER}")
    expect(regulator.locator("#reach-exact")).to_contain_text("1 个持有者")
    expect(regulator.locator("#reach-weak")).to_contain_text("1 个持有者")  # held for review, not told
    expect(regulator.locator("#reach-told")).to_contain_text("1 个持有者")
    assert re.search(r"\d+ 条短信计费段", regulator.locator("#segments-zh").inner_text())
    check_page(regulator, "recall-preview")
    previewed = regulator.locator("#sms-zh").inner_text()
    regulator.click("#publish")
    card = regulator.locator(f"[data-recall='{NUMBER}']")
    expect(card).to_contain_text("完全匹配（条码+批次）：1")
    check_page(regulator, "recall-desk-published")

    # ---- the guardian's phone receives the recall's SMS: the body the preview showed, with its reference ----
    got = wait_for(lambda: [m for m in sandbox.messages(PHONE) if NUMBER in m["body"]], timeout=120, every=0.2)
    assert len(got) == 1
    assert re.fullmatch(re.escape(previewed).replace("XXXXXXXX", "[0-9A-F]{8}"), got[0]["body"]), got[0]["body"]

    def delivered() -> bool:
        regulator.goto(f"/recall-desk/{NUMBER}")
        return "已提交 1" in regulator.locator("#delivery").inner_text()
    wait_for(delivered, timeout=60, every=0.5)
    check_page(regulator, "recall-detail")

    # ---- the public page (no sign-in) lists and finds it; no holder data, ever ----
    public = new_page(stack["browser"], stack["url"])

    def listed() -> bool:
        public.goto("/public/recalls?q=" + "ＨＢ－２００")  # full-width search finds HB-200
        return NUMBER in public.locator("main").inner_text()
    wait_for(listed, timeout=60, every=0.5)
    check_page(public, "public-recalls")
    html = public.content()
    with stack["console"].factory() as session:
        guardian_id = session.scalar(select(Guardian.id).where(Guardian.phone == PHONE))
    for secret in (PHONE, PHONE[3:], guardian_id, "self-"):
        assert secret not in html
    atom = public.request.get("/public/recalls.atom")
    assert atom.ok and atom.headers["content-type"].startswith("application/atom+xml")
    entries = ET.fromstring(atom.body()).findall("{http://www.w3.org/2005/Atom}entry")
    assert [e.findtext("{http://www.w3.org/2005/Atom}id") for e in entries] == [f"urn:childsafe:recall:{NUMBER}"]
    assert PHONE.encode() not in atom.body() and guardian_id.encode() not in atom.body()

    # ---- the weak match: confirmed in the review queue, that holder is told; then the recall is withdrawn ----
    regulator.goto(f"/recall-desk/{NUMBER}")
    row = regulator.locator("[data-review]")
    expect(row).to_contain_text("G-WEAK-BR")
    check_page(regulator, "recall-review")
    row.get_by_role("button", name="确认并通知").click()
    expect(regulator.locator("[data-review]")).to_contain_text("已确认并通知")
    told = wait_for(lambda: [m for m in sandbox.messages(WEAK_PHONE) if NUMBER in m["body"]], timeout=120, every=0.2)
    assert len(told) == 1
    regulator.click("#withdraw")
    expect(regulator.locator(".flash.ok")).to_contain_text("已撤回")
    regulator.goto(f"/recall-desk/{NUMBER}")
    expect(regulator.locator("#status")).to_contain_text("已撤回")
    expect(regulator.locator("#withdraw")).to_have_count(0)
    check_page(regulator, "recall-withdrawn")
