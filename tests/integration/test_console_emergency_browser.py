"""The emergency manager in Debian's Chromium, end to end on the real broker and PostgreSQL: an exercise sent to
two districts from the compose form goes as CAP XML through the HTTP intake, the streams agent maps it to the
schools there, the SMS workers send it through the real twilio SDK to the local sandbox (one number refused,
one undelivered), and the alert page's counts reach the sandbox's totals while it goes out; a recipient replies
"收到" through the sandbox (a signed inbound webhook), the acknowledged count moves, and "resend to those who have not
acknowledged" reaches only the others at the sandbox; then it is cancelled and a resend is refused.
Pages are screenshotted at 390 px and desktop width and checked with axe-core."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from alerts.sandbox.faults import FaultPlan, FaultRule
from console.accounts import create_user
from consumers.directory.csv_import import import_directory
from consumers.store.db import make_engine, transaction
from ops.bootstrap import build_webhooks, publish_reference_topics
from ops.kafka_local import free_port
from tests import sms_directory
from tests.console_fixtures import FAST_HASHER, PASSWORD
from tests.integration.console_browser import ConsoleStack, check_page, new_page, sign_in
from tests.integration.helpers import settings_for
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration

SCHOOLS = {"SCH-E1": ("310115", 31.20, 121.50), "SCH-E2": ("310115", 31.21, 121.52),
           "SCH-E3": ("310116", 31.30, 121.40), "SCH-FAR": ("310117", 31.60, 120.90)}
GUARDIANS = {"SCH-E1": 3, "SCH-E2": 2, "SCH-E3": 3, "SCH-FAR": 2}
PHONES: dict[str, str] = {}


def phone(who: str) -> str:
    """The generator's documented +86 199 block (sandbox only)."""
    return PHONES.setdefault(who, f"+861990002{len(PHONES):04d}")


def directory_files() -> dict[str, str]:
    children = {f"C-{s}-{n}": s for s, k in GUARDIANS.items() for n in range(k)}
    return {
        "schools.csv": "id,name,kind,district_code,lat,lon\n" + "".join(
            f"{s},测试学校 {s},primary,{d},{lat:.5f},{lon:.5f}\n" for s, (d, lat, lon) in SCHOOLS.items()),
        "classes.csv": "id,school_id,name,grade\n" + "".join(f"{s}-K1,{s},一班,1\n" for s in SCHOOLS),
        "children.csv": "id,school_id,class_id\n" + "".join(f"{c},{s},{s}-K1\n" for c, s in children.items()),
        "guardians.csv": "id,phone,language\n" + "".join(f"G-{c},{phone('G-' + c)},zh-CN\n" for c in children),
        "child_guardians.csv": "child_id,guardian_id,contact_order\n" + "".join(f"{c},G-{c},0\n" for c in children),
        "school_contacts.csv": "id,school_id,role,phone,language,contact_order\n" + "".join(
            f"{s}-head,{s},head,{phone(s + '-head')},zh-CN,0\n" for s in SCHOOLS),
        "agencies.csv": "id,kind,district_code,name\n", "duty_officers.csv": "id,agency_id,name,phone\n",
        "product_registrations.csv": "id,holder_kind,holder_id,product_kind,product_name,brand,model,batch,barcode\n",
    }


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_url, tmp_path_factory):
    with ConsoleStack(kafka_bootstrap, postgres_url, tmp_path_factory.mktemp("console-em"), "cem") as stack:
        engine = make_engine(stack.db_url)
        import_directory(engine, [sms_directory.write(stack.run_dir / "dir", directory_files())])
        engine.dispose()
        _, token = stack.intake_token(["incidents", "safety-reports", "emergency-alerts"])
        sandbox = stack.sandbox(FaultPlan([FaultRule("invalid", pattern=f"^\\{phone('G-C-SCH-E1-0')}$"),
                                           FaultRule("undelivered", pattern=f"^\\{phone('G-C-SCH-E3-1')}$")]))
        hooks_port = free_port()
        settings = settings_for(kafka_bootstrap, stack.namespace, stack.db_url, sandbox,
                                callback_base=f"http://127.0.0.1:{hooks_port}", console_intake_token=token,
                                run_dir=stack.run_dir, sms_reminder_min_wait_s=0)  # "too early": unit-tested
        published = publish_reference_topics(settings)
        assert published["schools"] == 4, published
        worker = stack.streams_worker(token)
        settings = settings.model_copy(update={"console_intake_url": worker.url})
        stack.background(build_webhooks(settings).app(), hooks_port)
        console = stack.console(settings)
        with transaction(console.factory) as s:
            create_user(s, "em1", PASSWORD, "emergency_manager", "em-3101", "测试应急甲", console.clock.now(),
                        hasher=FAST_HASHER)
        url = stack.serve(console)
        browser = stack.browser(waiting_for=[worker])
        stack.sms_workers(settings)
        yield {"url": url, "browser": browser, "sandbox": sandbox,
               "inbound": f"http://127.0.0.1:{hooks_port}/sms/inbound"}


def count(page, name: str) -> int:
    return int(page.locator(f"#n-{name}").inner_text())


@pytest.mark.timeout(600)
def test_an_exercise_to_two_districts_reaches_the_sandbox_totals_then_is_cancelled(stack):
    page = new_page(stack["browser"], stack["url"])
    sign_in(page, "em1", PASSWORD)
    expect(page.locator("h1")).to_have_text("正在发布的预警")
    check_page(page, "emergency-list-empty")
    page.goto("/emergency/new")
    page.check("#mode-exercise")
    page.select_option("#event", "rainstorm")
    page.select_option("#districts", ["310115", "310116"])
    page.fill("#area_desc", "测试一区、测试二区")
    page.click("#do-preview")
    # three schools: 8 children's first guardians and 3 heads; the body is the fan-out's, marked 【演练】
    expect(page.locator("#audience")).to_contain_text("3 所学校的 11 人")
    expect(page.locator("blockquote[data-lang=zh-CN]")).to_contain_text("【演练】【儿童安全预警】测试一区、测试二区：暴雨")
    check_page(page, "emergency-compose-preview")
    page.click("#do-send")
    page.wait_for_url("**/emergency/alerts/**", timeout=30000)
    expect(page.locator("#alert-mode")).to_contain_text("【演练】")
    sandbox = stack["sandbox"]

    def settled():  # the page polls; wait until its counts equal what the sandbox holds
        messages = sandbox.messages()
        delivered = sum(m["status"] == "delivered" for m in messages)
        undelivered = sum(m["status"] == "undelivered" for m in messages)
        assert len(messages) == 10 and delivered == 9 and undelivered == 1, [m["status"] for m in messages]
        assert count(page, "recipients") == 11
        assert count(page, "delivered") == delivered
        assert count(page, "failed") == undelivered + 1  # the refused number (21211) never reached the sandbox
        assert count(page, "accepted") == len(messages)
        return messages
    messages = wait_for(settled, timeout=180, every=0.5)
    assert all(m["body"].startswith("【演练】") for m in messages)
    expect(page.locator("#reasons")).to_contain_text("21211")
    expect(page.locator("#reasons")).to_contain_text("30003")
    expect(page.locator("#chart svg")).to_be_visible(timeout=15000)
    check_page(page, "emergency-alert-delivery")
    with page.expect_download() as download:
        page.click("#csv")
    csv_text = open(download.value.path(), encoding="utf-8-sig").read()
    assert len(csv_text.strip().splitlines()) == 12 and "+86199****" in csv_text
    assert not any(m["to"] in csv_text for m in messages), "numbers are masked in the export"
    assert all(m["body"].endswith("收到请回复1。") for m in messages), "an emergency exercise asks for acknowledgement"
    assert count(page, "acknowledged") == 0
    replier = phone("G-C-SCH-E2-0")
    assert sandbox.reply(replier, "收到", stack["inbound"]) == 200  # the recipient answers the exercise
    wait_for(lambda: count(page, "acknowledged") == 1, timeout=30, every=0.5)
    page.click("#do-resend")  # the CLI's rules: everyone the alert reached who has not acknowledged
    expect(page.locator(".flash.ok")).to_contain_text("已向 9 位未确认的收信人再次发送", timeout=30000)

    def reminded():  # the round reaches the sandbox: the 9 others the alert reached (the refused number never did)
        later = sandbox.messages()[len(messages):]
        assert len(later) == 9, len(later)
        return later
    later = wait_for(reminded, timeout=120, every=0.5)
    assert replier not in {m["to"] for m in later} and {m["to"] for m in later} < {m["to"] for m in messages}
    assert all(m["body"].startswith("【演练】") and m["body"].endswith("收到请回复1。") for m in later)
    assert {m["body"] for m in later}.isdisjoint({m["body"] for m in messages}), "the round carries its own ref"

    page.fill("#instruction", "测试：雨势减弱，学生继续留校")  # an Update through the intake, same thread and mode
    page.click("#do-update")
    expect(page.locator(".flash.ok")).to_contain_text("更新已发布", timeout=30000)
    expect(page.locator("#alert-mode")).to_contain_text("【演练】")

    page.goto("/emergency")
    expect(page.locator("#running tr[data-alert]")).to_have_count(1)
    check_page(page, "emergency-list-running")
    page.locator("#running a").first.click()
    page.click("#do-cancel")
    expect(page.locator("#alert-state")).to_have_text("已取消", timeout=30000)
    expect(page.locator(".flash.ok")).to_contain_text("预警已取消")
    check_page(page, "emergency-alert-cancelled")
    page.click("#do-resend")  # a cancelled thread is never reminded
    expect(page.locator("#err-resend")).to_contain_text("此预警已取消")
    page.goto("/emergency")
    expect(page.locator("#running")).to_have_count(0)
