"""The demo's report: for each report the triage decision, the case, every alert with its SMS (and a sample
body), the recall's and the exercise's SMS, and the dead letter of the malformed bytes."""

from __future__ import annotations

import json
import time
from collections import Counter

import httpx
from sqlalchemy import select

from consumers.cases.models import CaseAgency, MandatoryReportCase
from consumers.store.db import make_engine, session_factory
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.codec import decode
from contracts.events import AlertRequestedEvent, AuditRecordedEvent, DeadLetteredEvent
from contracts.topics import ALERTS_REQUESTED, AUDIT, DEADLETTER
from ops.demo_scenario import Played, Step
from ops.demo_stack import DemoStack, say
from ops.settings import Settings
from ops.topic_reader import read_topic


def print_report(stack: DemoStack, played: Played) -> None:
    settings, ns = stack.settings, stack.settings.topic_namespace
    say("\n▶ waiting for the SMS to settle at the sandbox …")
    counts = _wait_quiet(stack.sandbox_url)
    say("\n▶ where each report went")
    _report(settings, stack.bootstrap, played.accepted)
    _report_prefixed(settings, "召回 SAMR-DEMO-0001 (recall: exact and strong matches only)", "recall:SAMR-DEMO-0001:")
    _report_prefixed(settings, "CAP 演练 (exercise: marked in every SMS)", "cap:")
    for r in read_topic(stack.bootstrap, DEADLETTER.name(ns), timeout=10):
        d = decode(r.value, DeadLetteredEvent).data
        if (d.source_partition, d.source_offset) == played.raw_position:
            say(f"\n  malformed bytes → dead-letter topic: {d.reason}")
    say(f"\n▶ this run the sandbox received {counts.get('total', 0)} SMS for {counts.get('recipients', 0)} "
        f"recipients; duplicates: {counts.get('duplicates') or 'none'} (a re-run sends nothing already sent)")
    say(f"▶ logs in {stack.logs}; Kafka keeps running (stop it with `make kafka-down`)")


def _wait_quiet(sandbox_url: str, settle: float = 5.0, timeout: float = 60.0) -> dict:
    """Wait until the sandbox has received no new message for ``settle`` seconds (a re-run may send none)."""
    last, since, deadline = -1, time.monotonic(), time.monotonic() + timeout
    counts: dict = {}
    while time.monotonic() < deadline:
        counts = httpx.get(sandbox_url + "/_sandbox/counts", timeout=10).json()
        if counts["total"] != last:
            last, since = counts["total"], time.monotonic()
        elif time.monotonic() - since >= (settle if last > 0 else 3 * settle):
            break
        time.sleep(0.5)
    return counts


def _report(settings: Settings, bootstrap: str, accepted: list[tuple[Step, str]]) -> None:
    ns = settings.topic_namespace
    ids = {rid for _, rid in accepted}
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
    engine = make_engine(settings.db_url())
    with session_factory(engine)() as session:
        for step, rid in accepted:
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
