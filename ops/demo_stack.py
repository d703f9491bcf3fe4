"""The demo's local stack: Kafka (KRaft), the topics, a fictional city directory and every worker as a child
process (streams worker, case consumer, SMS fan-out, dispatcher, webhooks, the Twilio sandbox, the console)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from consumers.directory.bulk_load import load_generated
from consumers.store.core import School
from consumers.store.db import make_engine, session_factory
from consumers.store.directory import ProductRegistration
from consumers.store.migrate import upgrade
from ops.bootstrap import build_local_kafka, publish_reference_topics
from ops.processes import ChildProcess
from ops.settings import Settings
from ops.topics_admin import apply_topics


def say(text: str) -> None:
    print(text, flush=True)


@dataclass
class DemoStack:
    settings: Settings  # pointed at the local broker and database
    schools: list[School]
    product: ProductRegistration | None
    holders: int
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

    def stop(self) -> None:
        for proc in reversed(list(self.processes.values())):
            proc.stop()


def start_stack(settings: Settings) -> DemoStack:
    """Start everything and return once the sandbox and the streams worker answer (stop() it in any case)."""
    ns = settings.topic_namespace
    broker = build_local_kafka(settings)
    say(f"▶ Kafka {broker.version} (KRaft, single node from Maven Central jars) …")
    say(f"  answering on {broker.bootstrap} after {broker.up():.1f}s")
    bootstrap = broker.bootstrap
    report = apply_topics(bootstrap, ns)
    say(f"▶ topics: {len(report.created)} created, {len(report.unchanged)} unchanged, drift: {report.drift or 'none'}")
    db_url = settings.db_url()
    settings = settings.model_copy(update={"bootstrap_servers": bootstrap, "database_url": db_url})
    schools, product, holders = _prepare_directory(settings)
    say(f"▶ database {db_url.split('///')[-1]} migrated; scenario schools: {', '.join(s.id for s in schools)}")

    sandbox_url = f"http://{settings.sms_sandbox_host}:{settings.sms_sandbox_port}"
    env = {"CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": ns,
           "CHILDSAFE_RUN_DIR": str(settings.run_dir), "CHILDSAFE_INTAKE_INSECURE_LOCAL": "1",  # loopback-only demo
           "CHILDSAFE_DATABASE_URL": db_url, "CHILDSAFE_TWILIO_BASE_URL": sandbox_url}
    logs = settings.run_dir / "logs"
    processes = {name: ChildProcess(args, env, logs / f"{name}.log") for name, args in [
        ("sms-sandbox", ["sms-sandbox"]), ("sms-webhooks", ["sms", "webhooks"]), ("worker", ["worker"]),
        ("cases", ["cases", "consume"]), ("sms-fanout", ["sms", "fanout"]), ("sms-dispatch", ["sms", "dispatch"]),
        ("console", ["console"])]}
    stack = DemoStack(settings, schools, product, holders, processes, logs)
    try:
        for proc in processes.values():
            proc.start()
        processes["sms-sandbox"].wait_http(stack.sandbox_url + "/_sandbox/counts", timeout=60)
        took = processes["worker"].wait_http(stack.intake_url + "/health", timeout=90)
    except BaseException:
        stack.stop()
        raise
    say(f"▶ workers up (streams worker at {stack.intake_url} after {took:.1f}s; case consumer; SMS fan-out, "
        f"dispatcher, webhooks; Twilio sandbox at {stack.sandbox_url})\n")
    return stack


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
