"""The demo's report: where each report went (triage, case, alerts and their SMS, read back from Kafka and the
database), the recall's and the CAP exercise's SMS, the dead letter of the malformed bytes, the sandbox's totals,
and one console sign-in per role."""

from __future__ import annotations

import json
from collections import Counter

from sqlalchemy import select

from consumers.cases.models import CaseAgency, MandatoryReportCase
from consumers.store.core import School
from consumers.store.db import make_engine, session_factory
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.clock import SystemClock
from contracts.codec import decode
from contracts.events import AlertRequestedEvent, AuditRecordedEvent, DeadLetteredEvent
from contracts.topics import ALERTS_REQUESTED, AUDIT, DEADLETTER
from ops.demo_scenario import Played
from ops.demo_stack import DemoStack, say
from ops.settings import Settings
from ops.topic_reader import read_topic

DEMO_PASSWORD = "local-demo-{username}"  # local only: the console listens on 127.0.0.1 unless configured otherwise


def _reports(stack: DemoStack, played: Played) -> None:
    bootstrap, ns = stack.bootstrap, stack.settings.topic_namespace
    ids = {rid for _, rid in played.accepted}
    audits = read_topic(bootstrap, AUDIT.name(ns), timeout=60, until=lambda rs: ids <= {r.key.decode() for r in rs})
    triage = {}
    for r in audits:
        a = decode(r.value, AuditRecordedEvent).data
        if a.subject in ids:
            triage[a.subject] = f"{a.outcome} ({a.reason})"
    alerts: dict[str, list] = {rid: [] for rid in ids}
    for r in read_topic(bootstrap, ALERTS_REQUESTED.name(ns), timeout=5):
        a = decode(r.value, AlertRequestedEvent).data
        if a.source_event_id in alerts and a not in alerts[a.source_event_id]:
            alerts[a.source_event_id].append(a)
    engine = make_engine(stack.settings.db_url())
    with session_factory(engine)() as session:
        for step, rid in played.accepted:
            say(f"\n  {step.title}  [{rid}]")
            say(f"    • triage: {triage.get(rid, '(not routed yet)')}")
            case = session.scalar(select(MandatoryReportCase).where(MandatoryReportCase.report_id == rid))
            if case is not None:
                agencies = session.scalars(select(CaseAgency.agency_id).where(CaseAgency.case_id == case.case_id))
                say(f"    • case {case.case_id}: state {case.state}, risk {case.risk}, "
                    f"routed to {', '.join(sorted(agencies))}")
            for a in alerts[rid]:
                rows = session.scalars(select(SmsLedgerEntry).where(SmsLedgerEntry.alert_id == a.alert_id)).all()
                states = Counter(row.state for row in rows)
                say(f"    • alert {a.kind.value} [{a.priority.value}] → {a.audience.kind}: "
                    f"{len(rows)} SMS {dict(states) or ''}")
                if rows:
                    body = json.loads(rows[0].job_json)["body"]
                    say(f"        e.g. “{body}”")
    engine.dispose()


def _report_prefixed(settings: Settings, title: str, prefix: str) -> None:
    engine = make_engine(settings.db_url())
    with session_factory(engine)() as session:
        rows = session.scalars(select(SmsLedgerEntry).where(SmsLedgerEntry.alert_id.like(prefix + "%"))).all()
    engine.dispose()
    say(f"\n  {title}")
    say(f"    • {len(rows)} SMS {dict(Counter(r.state for r in rows)) or ''}")
    if rows:
        say(f"        e.g. “{json.loads(rows[0].job_json)['body']}”")


def report(stack: DemoStack, played: Played, counts: dict) -> None:
    """Where everything the scenario sent went, and what the sandbox received (``counts``)."""
    say("\n▶ where each report went")
    _reports(stack, played)
    _report_prefixed(stack.settings, "召回 SAMR-DEMO-0001 (recall: exact and strong matches only)",
                     "recall:SAMR-DEMO-0001:")
    _report_prefixed(stack.settings, "CAP 演练 (exercise: marked in every SMS)", "cap:")
    for r in read_topic(stack.bootstrap, DEADLETTER.name(stack.settings.topic_namespace), timeout=10):
        d = decode(r.value, DeadLetteredEvent).data
        if (d.source_partition, d.source_offset) == played.malformed_at:
            say(f"\n  malformed bytes → dead-letter topic: {d.reason}")
    say(f"\n▶ this run the sandbox received {counts.get('total', 0)} SMS for {counts.get('recipients', 0)} "
        f"recipients; duplicates (one body twice to one number): {counts.get('duplicates') or 'none'} (a re-run sends nothing already sent)")
    say(f"▶ logs in {stack.logs}; Kafka keeps running (stop it with `make kafka-down`)")


def _console_people(settings: Settings, school: School) -> list[tuple[str, str, str]]:
    """One console account per role at the scenario school's district (created once): (username, role, unit)."""
    from console.accounts import create_user, find_user
    from consumers.store.core import Agency

    engine = make_engine(settings.db_url())
    people = []
    try:
        with session_factory(engine).begin() as session:
            def agency(kind: str) -> Agency | None:
                return session.scalars(select(Agency).where(Agency.kind == kind,
                                                            Agency.district_code == school.district_code)).first()
            police, civil = agency("public_security"), agency("civil_affairs")
            wanted = [("demo.school", "school_officer", school.id)]
            wanted += [("demo.police", "police_duty_officer", police.id)] if police else []
            wanted += [("demo.civil", "agency_duty_officer", civil.id)] if civil else []
            if police is not None and police.supervisor_id:
                wanted.append(("demo.supervisor", "supervisor", police.supervisor_id))
            wanted.append(("demo.emergency", "emergency_manager", f"em-{school.district_code}"))  # its CAP sender
            for username, role, unit in wanted:
                if find_user(session, username) is None:
                    create_user(session, username, DEMO_PASSWORD.format(username=username), role, unit,
                                f"演示 {role}", SystemClock().now())
                people.append((username, role, unit))
    finally:
        engine.dispose()
    return people


def sign_ins(stack: DemoStack) -> None:
    """Once the console answers: one local-only account per role, printed with its password."""
    stack.processes["console"].wait_http(stack.console_url + "/health", timeout=60)
    people = _console_people(stack.settings, stack.schools[0]) if stack.schools else []
    say(f"\n▶ web console: {stack.console_url}  ({len(people)} demo sign-ins, local-only accounts)")
    for username, role, unit in people:
        say(f"  {role:<20} {unit:<16} user {username:<16} password {DEMO_PASSWORD.format(username=username)}")
