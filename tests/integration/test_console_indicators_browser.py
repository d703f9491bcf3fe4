"""The indicators page in Debian's Chromium, on the real broker and PostgreSQL: incidents, drills and recalls
go through their topics and the indicator recorder; cases and the SMS ledger are rows as their workers write
them. The province's committee drills down province → city → district and every figure on the page equals
the count this test makes from the records it created; one small cell (2 children) and its complement show '*'.
Screenshots at 390 px and desktop width; axe-core: no serious or critical violation."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from console.accounts import create_user
from consumers.indicators.models import DrillFact, IncidentFact, RecallFact
from consumers.kafka_io import AcknowledgedProducer
from contracts.events import IncidentReported, IncidentReportedEvent
from contracts.topics import INCIDENTS, RECALLS, SAFETY_REPORTS
from ops.bootstrap import run_indicator_recorder
from ops.settings import Settings
from tests.cases_fixtures import CaseWorld
from tests.console_fixtures import FAST_HASHER, PASSWORD, make_console
from tests.factories import incident
from tests.indicator_world import (
    CITIES,
    MONTH,
    SHANGHAI,
    IncidentRecord,
    build,
    covers,
    expected_cases,
    expected_drills_done,
    expected_incidents,
    expected_recalls,
    expected_sms,
)
from tests.integration.console_browser import ConsoleStack, check_page, new_page, sign_in
from tests.wait_for import wait_for

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def stack(kafka_bootstrap, postgres_url, tmp_path_factory):
    with ConsoleStack(kafka_bootstrap, postgres_url, tmp_path_factory.mktemp("console-ind"), "ind") as stack:
        namespace = stack.namespace
        world = CaseWorld(stack.db_url)
        stack.on_close(world.close)  # after everything started below has stopped
        with world.transaction() as s:
            records = build(s, seed=11, incidents=90, now=NOW, kids=(5, 6, 7), record_events=False)
            create_user(s, "wcc1", PASSWORD, "indicators_province", "140000", "测试妇儿工委甲", NOW,
                        hasher=FAST_HASHER)
        small = IncidentRecord("rep-small-1", "SCH-140107-0001", "140107", "burn_scald",
                               datetime(2026, 10, 12, 9, 30, tzinfo=SHANGHAI), 2)  # 2 children: must never show
        records.incidents.append(small)
        records.events.append(IncidentReportedEvent.new(IncidentReported.model_validate(incident(
            school_id=small.school, district_code=small.district, category=small.category,
            occurred_at=small.occurred_at.isoformat(), children=[{"age": 7}, {"age": 8}],
            reporter={"role": "school_safety_officer", "unit_id": small.school})), source="/test", id=small.event_id))
        producer = AcknowledgedProducer(kafka_bootstrap, "indicators-test")
        topic_of = {"cn.childsafe.incident.reported.v1": INCIDENTS,
                    "cn.childsafe.safety.report.filed.v1": SAFETY_REPORTS,
                    "cn.childsafe.recall.published.v1": RECALLS}
        for event in records.events:
            producer.send(topic_of[event.type].name(namespace), (event.subject or event.id).encode(), event.to_bytes())
        producer.send(INCIDENTS.name(namespace), b"SCH-x", b"\xff not json")  # skipped (its owner dead-letters it)
        producer.flush()
        producer.close()
        stack.thread(run_indicator_recorder,
                     Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=stack.db_url))

        want = (len(records.incidents), len(records.drills), sum(len(set(r)) for _, r, _ in records.recalls))

        def recorded():
            with world.factory() as s:
                got = tuple(s.scalar(select(func.count()).select_from(m))
                            for m in (IncidentFact, DrillFact, RecallFact))
            assert got == want, f"the recorder stored {got} of {want} (incidents, drills, recall areas)"
        wait_for(recorded, timeout=90)
        world.clock.advance(NOW - world.clock.now())  # the figures' "now": every clock is due by then
        yield {"url": stack.serve(make_console(world)), "browser": stack.browser(), "world": records}


def shown(page, area: str, measure: str) -> str:
    return page.locator(f'[data-cell="{area}:{measure}"]').first.inner_text().strip()


def pct(part: int, whole: int) -> str:
    return f"{part / whole * 100:.1f}%" if whole else "—"


def check_figures(page, records, area: str) -> None:
    counts, _ = expected_incidents(records, area)
    assert shown(page, area, "incidents") == f"{sum(counts.values()):,}", area
    for category in ("fall", "traffic", "bullying", "abuse_harm", "drowning"):  # '*': a complement of the burn
        assert shown(page, area, f"incidents:{category}").split(" ")[0] in (f"{counts[category]:,}", "*"), category
    cases = expected_cases(records, area)
    assert shown(page, area, "cases") == f"{len(cases):,}"
    on_time = sum(1 for c in cases if c.forwarded_after is not None and c.forwarded_after <= timedelta(minutes=15))
    assert shown(page, area, "forwarded") == pct(on_time, len(cases))
    assert shown(page, area, "breaches") == f"{sum(c.breaches for c in cases):,}"
    assert shown(page, area, "escalations") == f"{sum(c.escalations for c in cases):,}"
    sent, delivered = expected_sms(records, area)
    assert shown(page, area, "sms") == f"{sent:,}" and shown(page, area, "sms_delivered") == pct(delivered, sent)
    assert shown(page, area, "drills") == f"{expected_drills_done(records, area):,}"
    assert shown(page, area, "recalls") == f"{expected_recalls(records, area):,}"
    population = sum(p or 0 for _, ds in CITIES.values() for d, p in ds.items() if covers(area, d))
    if area.startswith("1401"):  # every district of this city has a population on record
        assert shown(page, area, "incidents_per_10k") == f"{sum(counts.values()) * 10_000 / population:,.2f}"


def test_the_committee_drills_down_and_sees_the_counts_of_the_records(stack):
    records = stack["world"]
    page = new_page(stack["browser"], stack["url"])
    sign_in(page, "wcc1", PASSWORD)
    page.goto("/indicators")
    page.fill("#month", MONTH)
    with page.expect_navigation():
        page.click("form.filters button[type=submit]")
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", "yes")
    for area in ("140100", "140200", "140000"):
        check_figures(page, records, area)
    assert page.locator("#chart-incidents canvas").count() == 1
    check_page(page, "indicators-province")

    with page.expect_navigation():
        page.click('a[href="/indicators/140100?month=2026-10"]')
    for area in ("140105", "140106", "140100"):
        check_figures(page, records, area)
    # burns in 140107: one report about 2 children. Hidden; no other district had one to hide with it, so the
    # city's total (the same 2 children) is hidden too, and so is the district's incident total it would give away
    assert shown(page, "140107", "incidents:burn_scald") == "*"
    assert shown(page, "140100", "incidents:burn_scald") == "*"
    assert [shown(page, d, "incidents:burn_scald").split(" ")[0] for d in ("140105", "140106")] == ["0", "0"]
    others = [shown(page, "140107", f"incidents:{c}").split(" ")[0] for c in ("fall", "traffic", "drowning", "bullying",
                                                                              "abuse_harm")]
    assert others.count("*") >= 1  # the burn's complement in its own row: the row total is shown
    check_page(page, "indicators-city")

    with page.expect_download() as download:
        page.click('a[href$="export.csv?month=2026-10"]')
    rows = list(csv.reader(io.StringIO(download.value.path().read_text(encoding="utf-8-sig"))))
    assert [r[1] for r in rows[1:-1]] == ["140105", "140106", "140107", "140100"]
    assert rows[1 + 2][rows[0].index("烧烫伤")] == "*"

    with page.expect_navigation():
        page.click('a[href="/indicators/140106?month=2026-10"]')
    check_figures(page, records, "140106")
    assert shown(page, "140106", "incidents:burn_scald").split(" ")[0] == "0"
    check_page(page, "indicators-district")
