"""The demo's stack: Kafka (KRaft), the topics, a fictional city's directory and reference topics, the intake
tokens, and every worker as a child process (the streams worker, the case consumer, the SMS fan-out, dispatcher
and webhooks, the local Twilio-compatible sandbox, the console); stopped when the ``with`` block ends."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from consumers.directory.bulk_load import load_generated
from consumers.store.core import School
from consumers.store.db import make_engine, session_factory
from consumers.store.directory import ProductRegistration
from consumers.store.migrate import upgrade
from contracts.clock import SystemClock
from ops.bootstrap import build_local_kafka, publish_reference_topics
from ops.processes import ChildProcess
from ops.settings import Settings
from ops.topics_admin import apply_topics

REGULATOR, CAP_SENDER = "SAMR-DEMO", "demo-emergency@example.invalid"
WORKERS = [("sms-sandbox", ["sms-sandbox"]), ("sms-webhooks", ["sms", "webhooks"]), ("worker", ["worker"]),
           ("cases", ["cases", "consume"]), ("sms-fanout", ["sms", "fanout"]), ("sms-dispatch", ["sms", "dispatch"]),
           ("console", ["console"])]


def say(text: str) -> None:
    print(text, flush=True)


@dataclass(frozen=True)
class DemoStack:
    """What the scenario and the report need of the running stack."""

    settings: Settings  # on the demo's broker and database
    schools: list[School]  # the scenario's schools (up to four)
    product: ProductRegistration | None  # a family's registered product the recall will match
    holders: int  # product holders published: the worker must index them all before the recall
    tokens: dict[str, str]  # intake token per scenario school, "regulator", "cap" and "console"
    processes: dict[str, ChildProcess]
    logs: Path

    @property
    def bootstrap(self) -> str:
        return self.settings.bootstrap_servers

    @property
    def intake_url(self) -> str:
        return f"http://{self.settings.web_host}:{self.settings.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://{self.settings.sms_sandbox_host}:{self.settings.sms_sandbox_port}"

    @property
    def console_url(self) -> str:
        return f"http://{self.settings.console_host}:{self.settings.console_port}"


def _prepare_directory(settings: Settings) -> tuple[list[School], ProductRegistration | None, int]:
    """A fictional city (numbers in the sandbox-only +86 199… block), loaded once, and its reference topics
    (product holdings for recall matching, school locations for CAP areas) published to Kafka."""
    db_url = settings.db_url()
    upgrade(db_url)
    engine = make_engine(db_url)
    with session_factory(engine)() as session:
        if not session.scalar(select(func.count()).select_from(School)):
            counts = load_generated(engine, schools=12, guardians=3000, seed=2026)
            say(f"▶ directory: generated a fictional city ({sum(counts.files.values())} rows)")
        schools = session.scalars(select(School).where(School.kind != "kindergarten").order_by(School.id)).all()
        product = session.scalars(select(ProductRegistration).where(ProductRegistration.holder_kind == "guardian",
                                                                    ProductRegistration.barcode.is_not(None))
                                  .order_by(ProductRegistration.id)).first()
    engine.dispose()
    published = publish_reference_topics(settings)
    say(f"▶ reference topics published: {published.get('holders', 0)} product holders, "
        f"{published.get('schools', 0)} school locations")
    return list(schools[:4]), product, published.get("holders", 0)


def _issue_tokens(settings: Settings, schools: list[School]) -> tuple[Path, dict[str, str]]:
    """The intake stays closed, as in production: a token per scenario school, the regulator, the CAP sender
    and the console, in the demo's own token book (rewritten each run; only the hashes are stored)."""
    from streams.intake_tokens import IntakeTokenBook

    path = settings.run_dir / "demo-intake-tokens.json"
    path.unlink(missing_ok=True)
    book, now = IntakeTokenBook(path), SystemClock().now()
    tokens = {s.id: book.issue(["incidents", "safety-reports"], "school", s.id, now, label="demo")[1] for s in schools}
    tokens["regulator"] = book.issue(["recalls"], "regulator", REGULATOR, now, label="demo")[1]
    tokens["cap"] = book.issue(["emergency-alerts"], "cap", CAP_SENDER, now, label="demo")[1]
    tokens["console"] = book.issue(["incidents", "safety-reports", "emergency-alerts"], "console", "demo-console", now,
                                   label="demo")[1]
    return path, tokens


@contextmanager
def demo_stack(settings: Settings) -> Iterator[DemoStack]:
    """Start everything and wait until the sandbox and the streams worker answer; stop the workers after (Kafka
    keeps running: `make kafka-down`)."""
    broker = build_local_kafka(settings)
    say(f"▶ Kafka {broker.version} (KRaft, single node from Maven Central jars) …")
    say(f"  answering on {broker.bootstrap} after {broker.up():.1f}s")
    report = apply_topics(broker.bootstrap, settings.topic_namespace)
    say(f"▶ topics: {len(report.created)} created, {len(report.unchanged)} unchanged, drift: {report.drift or 'none'}")
    db_url = settings.db_url()
    settings = settings.model_copy(update={"bootstrap_servers": broker.bootstrap, "database_url": db_url})
    schools, product, holders = _prepare_directory(settings)
    say(f"▶ database {db_url.split('///')[-1]} migrated; scenario schools: {', '.join(s.id for s in schools)}")
    book, tokens = _issue_tokens(settings, schools)
    stack = DemoStack(settings, schools, product, holders, tokens, {}, settings.run_dir / "logs")
    env = {"CHILDSAFE_BOOTSTRAP_SERVERS": broker.bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": settings.topic_namespace,
           "CHILDSAFE_RUN_DIR": str(settings.run_dir), "CHILDSAFE_INTAKE_TOKENS_FILE": str(book),
           "CHILDSAFE_CONSOLE_INTAKE_TOKEN": tokens["console"],
           "CHILDSAFE_DATABASE_URL": db_url, "CHILDSAFE_TWILIO_BASE_URL": stack.sandbox_url}
    stack.processes.update({name: ChildProcess(args, env, stack.logs / f"{name}.log") for name, args in WORKERS})
    try:
        for proc in stack.processes.values():
            proc.start()
        stack.processes["sms-sandbox"].wait_http(stack.sandbox_url + "/_sandbox/counts", timeout=60)
        took = stack.processes["worker"].wait_http(stack.intake_url + "/health", timeout=90)
        say(f"▶ workers up (streams worker at {stack.intake_url} after {took:.1f}s; case consumer; SMS fan-out, "
            f"dispatcher, webhooks; Twilio sandbox at {stack.sandbox_url})\n")
        yield stack
    finally:
        for proc in reversed(list(stack.processes.values())):
            proc.stop()
