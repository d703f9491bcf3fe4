"""The console journeys' shared parts: the stack each browser test runs on (``ConsoleStack``: a fresh namespace and
database, the streams worker, SMS workers, the console served, Chromium), and driving Debian's Chromium with
Playwright: screenshots at phone and desktop width, axe-core (vendored) run inside the page. Never downloads a
browser. Not a test module: the test modules import it, never each other."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

from alerts.sandbox import FaultPlan, SmsSandbox
from console.app import build_app
from console.web import Console
from ops.bootstrap import build_console
from ops.settings import Settings
from ops.topics_admin import apply_topics
from streams.intake_tokens import IntakeToken, IntakeTokenBook
from tests.console_fixtures import FAST_HASHER
from tests.databases import fresh_postgres_database
from tests.integration.helpers import SmsWorkers, StreamsWorker
from tests.sms_servers import BackgroundApp

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


class ConsoleStack:
    """One console journey's services on a fresh topic namespace (its topics applied) and a fresh PostgreSQL
    database; each part a test asks for is started now and stopped when the stack closes, last started first."""

    def __init__(self, kafka_bootstrap: str, postgres_url: str, run_dir: Path, prefix: str):
        self.bootstrap, self.run_dir = kafka_bootstrap, run_dir
        self.namespace = f"{prefix}{uuid.uuid4().hex[:8]}"
        self.db_url = fresh_postgres_database(postgres_url)
        apply_topics(kafka_bootstrap, self.namespace)
        self._closing = ExitStack()

    def __enter__(self) -> ConsoleStack:
        return self

    def __exit__(self, *exc) -> None:
        self._closing.close()

    def on_close(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` when the stack closes, after every part started later has stopped."""
        self._closing.callback(callback)

    def intake_token(self, routes: list[str], label: str = "") -> tuple[IntakeToken, str]:
        """A console sender's intake token in ``run_dir``'s book (`childsafe intake token`): (token, clear text)."""
        return IntakeTokenBook(self.run_dir / "intake-tokens.json").issue(
            routes, "console", "console-test", datetime.now(UTC), label=label)

    def streams_worker(self, token: str) -> StreamsWorker:
        """The streams worker process (intake + agents), started; ``wait_http`` before the first request."""
        worker = StreamsWorker(self.bootstrap, self.namespace, self.run_dir, token=token)
        worker.start()
        self._closing.callback(worker.stop)
        return worker

    def sandbox(self, faults: FaultPlan) -> SmsSandbox:
        sandbox = SmsSandbox(faults=faults, step_seconds=0.01).start()
        self._closing.callback(sandbox.stop)
        return sandbox

    def sms_workers(self, settings: Settings) -> SmsWorkers:
        """The fan-out and the dispatcher, polling."""
        sms = SmsWorkers(settings)
        sms.thread.start()
        self._closing.callback(sms.close)
        return sms

    def thread(self, run: Callable[[Settings, threading.Event], None], settings: Settings) -> None:
        """A composition-root ``run_*`` worker (case consumer, escalation loop, indicator recorder) on a thread."""
        stop = threading.Event()
        worker = threading.Thread(target=run, args=(settings, stop), daemon=True)
        worker.start()

        def join() -> None:
            stop.set()
            worker.join(30)
        self._closing.callback(join)

    def console(self, settings: Settings) -> Console:
        """The console as `childsafe console` builds it, signing in with the fast test hasher."""
        console = build_console(settings)
        console.signin.hasher = FAST_HASHER
        return console

    def serve(self, console: Console, port: int | None = None) -> str:
        return self.background(build_app(console), port).url

    def background(self, app, port: int | None = None) -> BackgroundApp:
        server = BackgroundApp(app, port).start()
        self._closing.callback(server.stop)
        return server

    def browser(self, waiting_for: Iterable[StreamsWorker] = ()) -> Browser:
        """Chromium, once the given workers answer over HTTP."""
        for worker in waiting_for:
            worker.wait_http(90)
        playwright = self._closing.enter_context(sync_playwright())
        browser = launch(playwright)
        self._closing.callback(browser.close)
        return browser
