"""Driving Debian's Chromium with Playwright for the console tests: screenshots at phone and desktop
width, and axe-core (vendored) run inside the page. Never downloads a browser."""

from __future__ import annotations

import json
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / ".run" / "screenshots"
AXE = ROOT / "console" / "static" / "vendor" / "axe-core-4.14.1" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def new_page(browser, base_url: str, viewport: dict = PHONE) -> Page:
    # bypass_csp only so the test can inject axe-core; the pages themselves run under the console's CSP
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN", timezone_id="Asia/Shanghai",
                                  bypass_csp=True)
    return context.new_page()


def serious_violations(page: Page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"] if v["impact"] in ("serious", "critical")]


def check_page(page: Page, name: str) -> None:
    """Screenshot at 390 px and at desktop width, and axe-core: no serious or critical violation."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    original = page.viewport_size
    for label, size in (("390", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} at {label}: page is {overflow}px wider than the screen"
    page.set_viewport_size(original)
    violations = serious_violations(page)
    assert not violations, f"{name}: axe-core found {json.dumps(violations, ensure_ascii=False)}"


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/signin")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/signin" not in page.url, f"{username} not signed in: {page.locator('main').inner_text()}"
