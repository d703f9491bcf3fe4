"""The console in Debian's Chromium, end to end on the real broker and PostgreSQL: an officer's report
becomes a case that the police desk acknowledges and refers, civil affairs accepts and completes the
referral, and the police (the lead agency: only it closes) close; police publish a missing-child alert
from a case and mark the child found; every page is screenshotted at 390 px and desktop width and
checked with axe-core."""

from __future__ import annotations

import uuid
from datetime import timedelta
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from console.accounts import ConsoleSession
from consumers.cases.audit import AuditRecord, verify
from consumers.cases.models import MandatoryReportCase
from consumers.cases.tracking import OutboxMessage
from consumers.store.db import transaction
from ops.bootstrap import run_case_consumer
from ops.settings import Settings
from tests.cases_fixtures import DISTRICT, SCHOOL, seed_organisations
from tests.console_fixtures import PASSWORD, add_people
from tests.factories import incident
from tests.integration.console_browser import ConsoleStack, check_page, new_page, sign_in
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_url, tmp_path_factory):
    """Streams worker (intake + triage), case consumer, and the console, on one namespace and database."""
    with ConsoleStack(kafka_bootstrap, postgres_url, tmp_path_factory.mktemp("console"), "con") as stack:
        intake_token, token = stack.intake_token(["incidents", "safety-reports"], label="console")
        worker = stack.streams_worker(token)
        settings = Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=stack.namespace,
                            database_url=stack.db_url, console_intake_url=worker.url, console_intake_token=token,
                            run_dir=stack.run_dir)
        console = stack.console(settings)
        with transaction(console.factory) as s:
            seed_organisations(s)
        add_people(lambda: transaction(console.factory), console.clock.now())
        stack.thread(run_case_consumer, settings)
        url = stack.serve(console)
        yield {"console": console, "url": url, "browser": stack.browser(waiting_for=[worker]), "worker": worker,
               "intake_token_id": intake_token.id}


def fill_report(page, *, location: str) -> None:
    page.select_option("#category", "abuse_harm")
    page.fill("#occurred_at", "2026-11-29T10:20")
    page.fill("#location", location)
    page.select_option("#severity", "serious")
    page.fill("#description", "测试：一名学生身上多处淤青，称在家被打（虚构）。")
    page.fill("#child-0-age", "9")
    page.select_option("#child-0-sex", "female")
    page.check("#child-0-injured")
    page.check("#situation-4")


@pytest.mark.timeout(900)  # a long walk through four roles; slow on a shared 2-core machine
def test_report_to_case_to_referral_to_closed_in_the_browser(stack):
    console, browser, url = stack["console"], stack["browser"], stack["url"]
    police = new_page(browser, url, {"width": 1280, "height": 900})
    sign_in(police, "police1", PASSWORD)
    expect(police.locator("h1")).to_have_text("个案队列")
    check_page(police, "queue-police-empty")

    officer = new_page(browser, url)
    sign_in(officer, "officer1", PASSWORD)
    check_page(officer, "reports-officer-empty")
    officer.goto("/report")
    fill_report(officer, location="操场东侧")
    expect(officer.locator("#preview-body")).to_contain_text("这将启动强制报告", timeout=15000)
    expect(officer.locator("#preview-body")).to_contain_text("公安机关")
    check_page(officer, "report-form")

    keys: list[str] = []

    def flaky(route):  # the first two sends never reach the console: a phone losing its signal
        keys.append(parse_qs(route.request.post_data)["idempotency_key"][0])
        if len(keys) <= 2:
            route.abort("internetdisconnected")
        else:
            route.continue_()
    officer.route("**/report", flaky)
    officer.click("#send")
    expect(officer.locator("#notice")).to_contain_text("同一编号重试")
    assert officer.input_value("#location") == "操场东侧", "what was typed is kept"
    officer.wait_for_url("**/reports?sent=*", timeout=60000)
    assert len(keys) == 3 and len(set(keys)) == 1, f"retries must reuse the Idempotency-Key: {keys}"
    report_id = officer.url.split("sent=")[1]
    expect(officer.locator(".flash.ok")).to_contain_text(report_id)

    def case_of_report():
        with console.factory() as s:
            return s.scalar(select(MandatoryReportCase).where(MandatoryReportCase.report_id == report_id))
    def forwarded_case():
        case = case_of_report()
        assert case is not None and case.state == "forwarded", f"the report's case: {case and case.state}"
        return case
    case = wait_for(forwarded_case, timeout=120, every=0.2)
    # the police queue, left open, shows the new case without a reload (htmx polling)
    expect(police.locator(f'tr[data-case="{case.case_id}"]')).to_be_visible(timeout=20000)
    check_page(police, "queue-police")

    police.click(f'a[href="/cases/{case.case_id}"]')
    expect(police.locator("#case-state")).to_have_text("已转送")
    check_page(police, "case-police")
    police.click("#do-acknowledge")
    expect(police.locator("#case-state")).to_have_text("已确认接报")
    police.click("#show-reporter")
    expect(police.locator("#reporter")).to_contain_text("测试安全员甲")
    police.fill("#assignee", "测试侦查员")
    police.click("#do-assign")
    expect(police.locator("#case-state")).to_have_text("调查中")
    police.select_option("#to_agency_id", "ca-310115")
    police.fill("#refer-reason", "需要民政部门临时监护与安置（测试）")
    police.click("#do-refer")
    expect(police.locator(".referrals")).to_contain_text("待答复")
    check_page(police, "case-police-referred")

    civil = new_page(browser, url, {"width": 1280, "height": 900})
    sign_in(civil, "civil1", PASSWORD)
    expect(civil.locator(f'tr[data-case="{case.case_id}"]')).to_be_visible()
    civil.goto(f"/cases/{case.case_id}")
    assert civil.locator("#show-reporter").count() == 0, "only the police may see the reporter"
    referral = civil.locator(".referrals li").first.get_attribute("data-referral")
    civil.click(f"#answer-{referral}-accept")
    expect(civil.locator(".referrals")).to_contain_text("已接受")
    civil.click(f"#answer-{referral}-complete")
    expect(civil.locator(".referrals")).to_contain_text("已完成")
    assert civil.locator("#do-close, #do-assign").count() == 0, "only the lead agency closes and assigns"
    check_page(civil, "case-civil-referral-done")

    police.goto(f"/cases/{case.case_id}")
    police.fill("#outcome", "已安置，监护人接受辅导（测试）")
    police.click("#do-close")
    expect(police.locator("#case-state")).to_have_text("已结案")
    expect(police.locator("#case-outcome")).to_contain_text("已安置")
    check_page(police, "case-police-closed")

    supervisor = new_page(browser, url)
    sign_in(supervisor, "super1", PASSWORD)
    expect(supervisor.locator("h1")).to_contain_text("超时优先")
    expect(supervisor.locator(f'tr[data-case="{case.case_id}"]')).to_be_visible()
    check_page(supervisor, "queue-supervisor")
    supervisor.goto(f"/cases/{case.case_id}")
    assert supervisor.locator("#do-close, #do-acknowledge, #do-refer").count() == 0
    check_page(supervisor, "case-supervisor")

    officer.goto("/reports")
    card = officer.locator(f'li[data-report="{report_id}"]')
    expect(card).to_contain_text("已立案")
    expect(card).to_contain_text("已结案")
    expect(card).to_contain_text("已确认接报：公安机关")
    for told in ("已通知：", "公安机关", "民政部门", "教育部门"):  # the kinds routed by law, no agency named
        expect(card).to_contain_text(told)
    check_page(officer, "reports-officer")
    officer.click(f'a[href="/cases/{case.case_id}"]')
    expect(officer.locator("#case-state")).to_have_text("已结案")
    content = officer.content()
    for secret in ("测试侦查员", "临时监护", "ps-310115", "ca-310115", "已安置"):  # assignee, reasons, agencies, outcome
        assert secret not in content, f"the school's redacted view shows {secret!r}"
    check_page(officer, "case-officer")

    police.goto("/queue")
    police.click("form.lang button")
    expect(police.locator("h1")).to_have_text("Case queue")
    expect(police.locator("tbody")).to_contain_text("Beijing time (UTC+8)")
    check_page(police, "queue-police-en")

    with console.factory() as s:
        actions = {r.action for r in s.scalars(select(AuditRecord))}
        assert verify(s).ok
    assert {"console.signin", "case.reporter.read", "case.read"} <= actions


def test_safety_report_and_refused_fields_in_chinese(stack):
    page = new_page(stack["browser"], stack["url"])
    sign_in(page, "officer1", PASSWORD)
    page.goto("/safety")
    check_page(page, "safety-form")
    page.check("#kind-drill")
    page.select_option("#drill_kind", "fire")
    page.fill("#held_on", "2026-11-20")
    page.fill("#participants", "0")  # refused: at least 1
    page.click("#safety-form button[type=submit]")
    expect(page.locator("#err-participants")).to_have_text("不能小于 1")
    assert page.get_attribute("#participants", "aria-invalid") == "true"
    check_page(page, "safety-form-refused")
    page.fill("#participants", "420")
    page.click("#safety-form button[type=submit]")
    page.wait_for_url("**/reports?sent=*", timeout=30000)
    expect(page.locator(".cards")).to_contain_text("应急演练")


def test_report_form_works_by_keyboard_alone(stack):
    page = new_page(stack["browser"], stack["url"])
    sign_in(page, "officer1", PASSWORD)
    page.goto("/report")
    page.locator("#category").focus()
    actions = {"category": lambda: [page.keyboard.press("ArrowDown") for _ in range(3)],  # traffic, drowning, fall
               "location": lambda: page.keyboard.type("教学楼楼梯"),
               "severity": lambda: page.keyboard.press("ArrowDown"),
               "description": lambda: page.keyboard.type("课间在楼梯滑倒，膝盖擦伤（测试）。"),
               "child-0-age": lambda: page.keyboard.type("8"),
               "child-0-injured": lambda: page.keyboard.press("Space")}
    seen = []
    for _ in range(60):
        focused = page.evaluate("document.activeElement.id")
        seen.append(focused)
        if focused in actions:
            actions.pop(focused)()
        elif focused == "send":
            break
        page.keyboard.press("Tab")
    assert not actions, f"never reached by Tab: {list(actions)} (focus went {seen})"
    assert page.input_value("#category") == "fall" and page.input_value("#severity") == "minor"
    assert page.input_value("#occurred_at"), "the time defaults to now (Beijing), so it needs no typing"
    expect(page.locator("#preview-body")).to_contain_text("不会启动强制报告", timeout=15000)
    page.keyboard.press("Enter")
    page.wait_for_url("**/reports?sent=*", timeout=30000)
    expect(page.locator(".cards")).to_contain_text("跌倒坠落")


def test_access_through_the_browser(stack):
    console, browser, url = stack["console"], stack["browser"], stack["url"]
    body = incident(school_id=SCHOOL, district_code=DISTRICT, category="missing_child", severity="serious",
                    reporter={"role": "teacher", "unit_id": SCHOOL, "confidential": True})
    key = f"access-{uuid.uuid4().hex[:8]}"
    assert stack["worker"].post("/v1/incidents", body, headers={"Idempotency-Key": key}).status_code == 202

    report_id = f"{stack['intake_token_id']}.{key}"  # the intake makes the event id from the client and its key

    def opened():
        with console.factory() as s:
            found = s.scalar(select(MandatoryReportCase.case_id).where(MandatoryReportCase.report_id == report_id))
        assert found, f"no case yet for report {key}"  # wait_for takes None as passing: assert instead
        return found
    case_id = wait_for(opened, timeout=120, every=0.2)
    police = new_page(browser, url, {"width": 1280, "height": 900})
    sign_in(police, "police1", PASSWORD)
    police.goto(f"/cases/{case_id}")
    police.fill("#mc-age", "7")
    police.fill("#mc-description", "黄色雨衣，黑色运动鞋（测试）")
    police.fill("#mc-lat", "31.19")  # not at the school: where the child was last seen (fictional)
    police.fill("#mc-lon", "121.44")
    check_page(police, "case-police-missing-child")
    police.click("#do-missing")
    expect(police.locator("#missing-out")).to_be_visible()
    expect(police.locator(".timeline")).to_contain_text("missing-child alert published")
    check_page(police, "case-police-missing-out")
    police.fill("#found-reason", "在附近商场找到（测试）")
    police.click("#do-found")
    expect(police.locator(".timeline")).to_contain_text("child found")
    assert police.locator("#do-found").count() == 0
    with console.factory() as s:
        outbox = s.scalars(select(OutboxMessage.purpose).where(OutboxMessage.case_id == case_id)).all()
    assert outbox.count("missing") == 2, f"alert and found in the case outbox: {outbox}"

    other_police = new_page(browser, url)
    sign_in(other_police, "police2", PASSWORD)  # the other district's police
    response = other_police.goto(f"/cases/{case_id}")
    assert response.status == 404
    expect(other_police.locator(".flash.error")).to_contain_text("不在您单位的范围内")
    check_page(other_police, "case-not-found")

    officer = new_page(browser, url)
    sign_in(officer, "officer1", PASSWORD)
    csrf = officer.locator("input[name=csrf]").first.get_attribute("value")
    wrong_role = officer.request.post(f"/cases/{case_id}/act/reopen", form={"csrf": csrf, "reason": "x"})
    assert wrong_role.status == 403
    no_csrf = officer.request.post(f"/cases/{case_id}/act/note", form={"text": "无令牌"})
    assert no_csrf.status == 403 and "表单已失效" in no_csrf.text()

    with transaction(console.factory) as s:  # the officer's browser has been idle past the limit
        s.execute(update(ConsoleSession).values(last_seen_at=console.clock.now() - timedelta(hours=1)))
    officer.goto("/reports")
    assert "/signin?expired=1" in officer.url
    expect(officer.locator("main")).to_contain_text("登录已过期")
    check_page(officer, "signin-expired")
