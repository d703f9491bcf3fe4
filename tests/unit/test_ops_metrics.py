"""Metric catalogue lint (names, help, base units, bounded labels), per-batch recording, case-store gauges,
and the Grafana dashboard querying only metrics that exist."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY, CollectorRegistry

from ops.metrics import COLLECTED, catalogue
from tests.databases import migrated_template, sqlite_copy
from tests.metric_names import exposed_names

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
ALLOWED_LABELS = {"worker", "dependency", "topic", "outcome", "reason", "rejected_by", "route", "status", "error_class", "encoding",
                  "duty", "level", "state", "on_time", "group", "partition", "priority", "role"}
NON_BASE_UNITS = re.compile(r"_(ms|milliseconds|microseconds|minutes|hours|days|kb|mb|kilobytes|megabytes|percent)(_|$)")


def test_every_metric_has_help_a_prometheus_name_base_units_and_bounded_labels():
    metrics = catalogue()
    assert len(metrics) >= 15
    for name, metric in metrics.items():
        assert re.fullmatch(r"childsafe_[a-z][a-z0-9_]*", name), name
        assert len(metric._documentation) >= 20, f"{name}: help text must say what it counts"
        assert not NON_BASE_UNITS.search(name), f"{name}: use base units (seconds, bytes)"
        assert set(metric._labelnames) <= ALLOWED_LABELS, f"{name}: unbounded label {metric._labelnames}"
        if metric._type == "histogram":
            assert name.endswith(("_seconds", "_bytes")), f"{name}: a histogram's name ends with its unit"
        if metric._type == "gauge":
            assert not name.endswith("_total"), name
        assert "_total" not in name, f"{name}: prometheus_client adds _total to counters itself"


def test_collected_families_follow_the_same_rules(tmp_path):
    from consumers.metrics import CaseStoreCollector
    from consumers.store.db import make_engine, session_factory
    from contracts.clock import FakeClock

    url = sqlite_copy(migrated_template(), tmp_path / "m.db")
    engine = make_engine(url)
    families = list(CaseStoreCollector(session_factory(engine), FakeClock(datetime.now(UTC))).collect())
    engine.dispose()
    from ops.metrics import ConsumerLagCollector

    lag = ConsumerLagCollector("127.0.0.1:1", [], "ns")
    lag.lag = lambda: [("ns.cases", "ns.cases.commands.v1", 0, 7)]  # the Kafka read is tested on the real broker
    families += list(lag.collect())
    assert {f.name: f.type for f in families} == COLLECTED
    for family in families:
        assert len(family.documentation) >= 20 and family.name.startswith("childsafe_")
        for sample in family.samples:
            assert set(sample.labels) <= ALLOWED_LABELS
    [sample] = [s for f in families for s in f.samples if f.name == "childsafe_consumer_lag_messages"]
    assert sample.labels == {"group": "ns.cases", "topic": "cases.commands.v1", "partition": "0"} and sample.value == 7


def _value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_triage_batch_is_recorded_with_a_few_calls_by_outcome_reason_and_topic():
    from contracts.topics import AUDIT, CASE_COMMANDS
    from streams.metrics import BatchTally
    from streams.output import Output

    class Report:
        def __init__(self, id, time):
            self.id, self.time, self.correlationid, self.source = id, time, id, "/tests"

    routed0 = _value("childsafe_events_consumed_total", topic="incidents.reported.v1", outcome="routed")
    dup0 = _value("childsafe_events_consumed_total", topic="incidents.reported.v1", outcome="duplicate")
    dl0 = _value("childsafe_deadletters_total", topic="incidents.reported.v1", reason="too_large",
                 rejected_by="streams.triage")
    audit0 = _value("childsafe_events_produced_total", topic="audit.v1")
    delay0 = _value("childsafe_report_routing_delay_seconds_count")
    now = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
    tally = BatchTally(0.0)
    tally.routed_report(Report("a", now - timedelta(seconds=2)), caused_work=False)
    tally.routed_report(Report("b", now - timedelta(seconds=9)), caused_work=True)
    tally.duplicates += 1
    tally.rejected += ["too_large", "contract"]
    outputs = [Output(CASE_COMMANDS, b"k", b"v"), Output(AUDIT, b"a", b"v"), Output(AUDIT, b"b", b"v"),
               Output("ns-streams-triage-seen-changelog", b"k", b"v")]
    tally.record("t1.incidents.reported.v1", outputs, now)
    assert _value("childsafe_events_consumed_total", topic="incidents.reported.v1", outcome="routed") == routed0 + 2
    assert _value("childsafe_events_consumed_total", topic="incidents.reported.v1", outcome="duplicate") == dup0 + 1
    assert _value("childsafe_deadletters_total", topic="incidents.reported.v1", reason="too_large",
                  rejected_by="streams.triage") == dl0 + 1
    assert _value("childsafe_events_produced_total", topic="audit.v1") == audit0 + 2
    assert _value("childsafe_report_routing_delay_seconds_count") == delay0 + 1  # once per batch: the oldest
    assert tally.notable == [("b", "b", "/tests")]


def test_reason_classes_are_a_small_fixed_set():
    from contracts.dlq import reason_class
    from contracts.errors import FieldError

    assert reason_class([FieldError("(body)", "not valid JSON: x")]) == "malformed"
    assert reason_class([FieldError("(body)", "at most 1024 bytes", "2000 bytes")]) == "too_large"
    assert reason_class([FieldError("data.category", "one of …", "x")]) == "contract"
    assert reason_class([FieldError("(processing)", "internal error: KeyError")]) == "internal"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_case_store_gauges_count_open_cases_and_overdue_met_and_breached_duties(db_url):
    from consumers.cases.models import CaseDeadline, MandatoryReportCase
    from consumers.metrics import CaseStoreCollector
    from consumers.store.db import make_engine, session_factory, transaction
    from contracts.clock import FakeClock

    t0 = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
    engine = make_engine(db_url)
    factory = session_factory(engine)
    with transaction(factory) as s:
        for i, state in enumerate(["reported", "reported", "forwarded", "closed"]):
            s.add(MandatoryReportCase(case_id=f"C{i}", report_id=f"R{i}", school_id="SCH-310115-0001",
                                      district_code="310115", category="abuse_harm", severity="serious", risk="high",
                                      situations=[4], triggers=[], children=[], summary="", state=state,
                                      occurred_at=t0, reported_at=t0, opened_at=t0, updated_at=t0))
        s.flush()
        due = t0 + timedelta(minutes=15)
        s.add_all([CaseDeadline(case_id="C0", duty="forward", due_at=due, escalation_level=0),  # overdue
                   CaseDeadline(case_id="C1", duty="forward", due_at=due, met_at=due - timedelta(minutes=1),
                                escalation_level=0),  # on time
                   CaseDeadline(case_id="C2", duty="forward", due_at=due, met_at=due + timedelta(minutes=5),
                                breached_at=due, escalation_level=1),  # late
                   CaseDeadline(case_id="C2", duty="assign", due_at=t0 + timedelta(hours=3), escalation_level=0)])
    registry = CollectorRegistry()
    registry.register(CaseStoreCollector(factory, FakeClock(t0 + timedelta(hours=1))))
    get = registry.get_sample_value
    assert get("childsafe_cases_open", {"state": "reported"}) == 2
    assert get("childsafe_cases_open", {"state": "forwarded"}) == 1
    assert get("childsafe_cases_open", {"state": "closed"}) is None
    assert get("childsafe_case_duties_overdue", {"duty": "forward"}) == 1
    assert get("childsafe_case_duties_overdue", {"duty": "assign"}) is None  # not due yet
    assert get("childsafe_case_duties_met_total", {"duty": "forward", "on_time": "true"}) == 1
    assert get("childsafe_case_duties_met_total", {"duty": "forward", "on_time": "false"}) == 1
    assert get("childsafe_case_duties_breached_total", {"duty": "forward"}) == 1
    engine.dispose()


def test_the_dashboard_parses_and_queries_only_declared_metrics():
    dashboard = json.loads((ROOT / "ops/grafana/childsafe.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    assert len(dashboard["panels"]) >= 12 and all(exprs)
    used = {m for e in exprs for m in re.findall(r"\b(childsafe_[a-z0-9_]+)", e)}
    declared = exposed_names()
    assert used and used <= declared, f"dashboard queries undeclared metrics: {sorted(used - declared)}"
    families = {n.removesuffix("_total") for n in declared if not n.endswith(("_bucket", "_sum", "_count", "_created"))}
    families |= {n.removesuffix("_bucket") for n in declared if n.endswith("_bucket")}
    shown = {u.removesuffix("_total").removesuffix("_bucket") for u in used}
    assert families <= shown, f"signals missing from the dashboard: {sorted(families - shown)}"
