"""The consumers' Prometheus metrics (case workflow and SMS), declared once each, and what records them.

Labels are bounded: outcome, duty, state, level, status, error class. Never a case id, report id,
phone number or name. Counts that the database already holds (open cases by state, duties met late
or overdue) are read from it at scrape time by `CaseStoreCollector`, so they are right whichever
process changed them (consumer, desk, escalation runner) and survive restarts.
"""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

CASE_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
SMS_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600)

CASE_COMMANDS = Counter(
    "childsafe_case_commands_total", "Case commands the case consumer stored, by outcome (opened, duplicate, "
    "deadlettered, replayed).", ["outcome"])
REPORT_TO_CASE_SECONDS = Histogram(
    "childsafe_report_to_case_seconds", "Report accepted at intake (its CloudEvent time) until its "
    "mandatory-report case was committed.", buckets=CASE_BUCKETS)
CASE_ESCALATIONS = Counter(
    "childsafe_case_escalations_total", "Missed duties escalated, by duty and level (1 supervisor, 2 education "
    "bureau).", ["duty", "level"])
CASE_OUTBOX_PUBLISHED = Counter(
    "childsafe_case_outbox_published_total", "Outbox messages (duty alerts, escalations, dead letters) "
    "published to Kafka.")
AUDIT_ANCHORED = Counter(
    "childsafe_audit_anchored_records_total", "Case audit records whose hashes were anchored on the audit topic.")

SMS_MESSAGES = Counter(
    "childsafe_sms_messages_total", "SMS attempts and provider status updates, by status (accepted, refused, queued, "
    "sent, delivered, undelivered, failed) and error class (none, invalid_number, opted_out, not_mobile, "
    "rate_limited, carrier, provider_unavailable, other).", ["status", "error_class"])
SMS_SEGMENTS = Counter(
    "childsafe_sms_segments_total", "SMS segments the provider accepted (what cost and carrier throughput "
    "count), by encoding (gsm7, ucs2).", ["encoding"])
ALERT_TO_PROVIDER_SECONDS = Histogram(
    "childsafe_alert_to_provider_seconds", "Alert requested (its CloudEvent time) until the provider accepted "
    "the SMS.", buckets=SMS_BUCKETS)
ALERT_TO_DELIVERED_SECONDS = Histogram(
    "childsafe_alert_to_delivered_seconds", "Alert requested (its CloudEvent time) until the provider reported "
    "the SMS delivered.", buckets=SMS_BUCKETS)
ALERT_FALLBACK_BODIES = Counter(
    "childsafe_alert_fallback_bodies", "Emergency alerts whose own template could not be composed and that went out "
    "with the minimal safe body instead (a template or producer bug: page the operator).", ["priority"])
ALERTS_REFUSED_AFTER_ACCEPTANCE = Counter(
    "childsafe_alerts_refused_after_acceptance", "Alert requests the fan-out refused (could not compose) although "
    "their input was accepted at intake: nobody was told. Must stay at zero.", ["priority"])
FANOUT_JOBS = Counter(
    "childsafe_fanout_jobs_total", "SMS jobs the fan-out wrote (one per recipient), by alert priority.",
    ["priority"])

SMS_CLAIMS_LOST = Counter(
    "childsafe_sms_claims_lost_total", "SMS claims a dispatcher found taken over (its lease ran out while the job "
    "waited) right before sending, so it did not send.")
OUTAGE_RETRIES = Counter(
    "childsafe_outage_retries_total", "Rounds a worker waited and retried because a dependency was unavailable, "
    "by worker and dependency (database, kafka).", ["worker", "dependency"])
OUTAGE_WAIT_SECONDS = Counter(
    "childsafe_outage_wait_seconds_total", "Seconds a worker spent waiting out unavailable dependencies, by worker "
    "and dependency.", ["worker", "dependency"])


def record_case_batch(outcomes: Iterable[str], opened_reported_at: Iterable[datetime], committed: datetime) -> None:
    """One call per committed batch of case commands."""
    for outcome, n in Tally(outcomes).items():
        CASE_COMMANDS.labels(outcome).inc(n)
    for reported_at in opened_reported_at:
        REPORT_TO_CASE_SECONDS.observe(max(0.0, (committed - reported_at).total_seconds()))


def record_sms_attempt(status: str, error_class: str = "none", segments: int = 0, encoding: str = "gsm7",
                       requested_at: datetime | None = None, now: datetime | None = None) -> None:
    """The dispatcher's hook: call once per provider answer (accepted or refused)."""
    SMS_MESSAGES.labels(status, error_class).inc()
    if segments:
        SMS_SEGMENTS.labels(encoding).inc(segments)
    if status == "accepted" and requested_at is not None and now is not None:
        ALERT_TO_PROVIDER_SECONDS.observe(max(0.0, (now - requested_at).total_seconds()))


def record_dispatch(outcomes: Iterable, jobs: dict, now: datetime | None = None) -> None:
    """The dispatcher, once per batch: provider answers (accepted, refused, failed) with their segments,
    and for accepted ones the time since the alert was requested."""
    from alerts.segments import encoding_of

    for outcome in outcomes:
        job = jobs.get(outcome.row_id)
        if job is None or not outcome.attempted:
            continue  # held, skipped or expired: no provider call
        accepted = outcome.state == "accepted"
        record_sms_attempt(outcome.state, sms_error_class(outcome.error_code),
                           segments=job.segments if accepted else 0, encoding=encoding_of(job.body).replace("-", "").lower(),
                           requested_at=getattr(job, "requested_at", None), now=now)


def record_sms_status(status: str, error_class: str = "none", requested_at: datetime | None = None,
                      now: datetime | None = None) -> None:
    """The status-callback hook: call once per deduplicated callback."""
    SMS_MESSAGES.labels(status, error_class).inc()
    if status == "delivered" and requested_at is not None and now is not None:
        ALERT_TO_DELIVERED_SECONDS.observe(max(0.0, (now - requested_at).total_seconds()))


def sms_error_class(code: int | None) -> str:
    """Twilio error codes (DOMAIN.md) into a few classes fit for a label."""
    if code is None:
        return "none"
    return {21211: "invalid_number", 21610: "opted_out", 21614: "not_mobile", 20429: "rate_limited",
            429: "rate_limited"}.get(code, "carrier" if 30003 <= code <= 30008 else "other")


class CaseStoreCollector:
    """Reads, at scrape time, what the case store knows: open cases by state, duties met / overdue."""

    def __init__(self, factory, clock):
        self.factory, self.clock = factory, clock

    def describe(self):
        return []  # don't query the database when registering

    def collect(self):
        from sqlalchemy import case, func, select

        from consumers.cases.models import CaseDeadline, MandatoryReportCase

        open_cases = GaugeMetricFamily("childsafe_cases_open", "Mandatory-report cases not closed, by state.",
                                       labels=["state"])
        met = CounterMetricFamily("childsafe_case_duties_met", "Case duties met, by duty and whether on time.",
                                  labels=["duty", "on_time"])
        breached = CounterMetricFamily("childsafe_case_duties_breached", "Case duties that missed their "
                                       "deadline (met late or still open), by duty.", labels=["duty"])
        overdue = GaugeMetricFamily("childsafe_case_duties_overdue", "Case duties past their deadline and "
                                    "still not met, by duty.", labels=["duty"])
        now = self.clock.now()
        with self.factory() as session:
            for state, n in session.execute(select(MandatoryReportCase.state, func.count())
                                            .where(MandatoryReportCase.state != "closed")
                                            .group_by(MandatoryReportCase.state)):
                open_cases.add_metric([state], n)
            late = case((CaseDeadline.met_at > CaseDeadline.due_at, "false"), else_="true")
            for duty, on_time, n in session.execute(select(CaseDeadline.duty, late, func.count())
                                                    .where(CaseDeadline.met_at.is_not(None))
                                                    .group_by(CaseDeadline.duty, late)):
                met.add_metric([duty, on_time], n)
            for duty, n in session.execute(select(CaseDeadline.duty, func.count())
                                           .where(CaseDeadline.breached_at.is_not(None))
                                           .group_by(CaseDeadline.duty)):
                breached.add_metric([duty], n)
            for duty, n in session.execute(select(CaseDeadline.duty, func.count())
                                           .where(CaseDeadline.met_at.is_(None), CaseDeadline.due_at < now)
                                           .group_by(CaseDeadline.duty)):
                overdue.add_metric([duty], n)
        yield from (open_cases, met, breached, overdue)
