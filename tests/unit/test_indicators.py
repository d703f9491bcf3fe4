"""The indicator queries on SQLite and PostgreSQL: every figure shown equals a plain recount of the records a
made-up province was built from; no shown figure is about fewer than 5 children, nor derivable from the others."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from consumers.indicators.facts import record
from consumers.indicators.models import DrillFact, IncidentFact, RecallFact
from consumers.indicators.queries import IndicatorInputError, indicator_page
from consumers.indicators.suppression import THRESHOLD, Cell, Group, suppress
from consumers.store.db import make_engine, session_factory, transaction
from contracts.events import RecallPublishedEvent, SafetyReportFiledEvent
from contracts.safety import SafetyReportFiled
from tests.databases import migrated_template, sqlite_copy
from tests.indicator_world import (
    CITIES,
    MONTH,
    PROVINCE,
    build,
    expected_cases,
    expected_drills_done,
    expected_incidents,
    expected_recalls,
    expected_sms,
)
from tests.recall_fixtures import recall

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
AREAS = [PROVINCE, *CITIES, *(d for _, ds in CITIES.values() for d in ds)]


@pytest.fixture()
def world(db_url):
    factory = session_factory(make_engine(db_url))
    with transaction(factory) as s:
        w = build(s)
    return factory, w


def test_every_shown_figure_equals_a_recount_of_the_records(world):
    factory, w = world
    with factory() as s:
        for code in AREAS:
            page = indicator_page(s, code, MONTH, NOW)
            for row in [*page.rows, page.total]:
                counts, kids = expected_incidents(w, row.area.code)
                assert row.incidents_total.value == sum(counts.values())
                assert row.incidents_total.children == sum(kids.values())
                for category, cell in row.incidents.items():
                    assert cell.value == counts[category] and cell.children == kids[category]
                    assert cell.shown in (None, counts[category])
                cases = expected_cases(w, row.area.code)
                assert row.cases.value == len(cases)
                if not row.cases.hidden and cases:
                    on_time = [c for c in cases if c.forwarded_after is not None and c.forwarded_after.total_seconds() <= 900]
                    assert row.forwarded_in_time.shown == pytest.approx(len(on_time) / len(cases))  # all due by NOW
                    assert row.breaches.shown == sum(c.breaches for c in cases)
                    assert row.escalations.shown == sum(c.escalations for c in cases)
                assert (row.sms_sent, row.sms_delivered) == expected_sms(w, row.area.code)
                assert row.drills_done == expected_drills_done(w, row.area.code)
                assert row.recalls == expected_recalls(w, row.area.code)
            assert (page.sms_unknown.sms_sent, page.sms_unknown.sms_delivered) == expected_sms(w, None)
        assert expected_sms(w, None)[0] > 0  # the world has recipients the directory does not place


def test_rates_per_10000_children_use_the_recorded_population_and_none_is_invented(world):
    factory, w = world
    with factory() as s:
        page = indicator_page(s, "140100", MONTH, NOW)
        for row in page.rows:
            counts, _ = expected_incidents(w, row.area.code)
            population = CITIES["140100"][1][row.area.code]
            expected = round(sum(counts.values()) * 10_000 / population, 2)
            assert row.per_10k(row.incidents_total) == (None if row.incidents_total.hidden else expected)
        assert page.total.population == sum(CITIES["140100"][1].values())
        city_b = indicator_page(s, "140200", MONTH, NOW)
        assert city_b.total.population is None  # 140203 has no population on record: no rate for the city
        assert all(city_b.total.per_10k(c) is None for c in city_b.total.incidents.values())


def test_a_cell_hidden_on_one_page_is_hidden_on_every_page(world):
    factory, _ = world
    with factory() as s:
        seen: dict[tuple[str, str], bool] = {}
        for code in AREAS:
            page = indicator_page(s, code, MONTH, NOW)
            for row in [*page.rows, page.total]:
                for category, cell in [*row.incidents.items(), ("*", row.incidents_total), ("cases", row.cases)]:
                    key = (row.area.code, category)
                    assert seen.setdefault(key, cell.hidden) == cell.hidden, key


def emitted_cells(page):
    for row in [*page.rows, page.total]:
        yield from [*row.incidents.values(), row.incidents_total, row.cases, row.forwarded_in_time,
                    row.acknowledged_in_time, row.breaches, row.escalations]


DISTRICTS = [d for _, ds in CITIES.values() for d in ds]


@pytest.fixture(scope="module")
def scratch_province(tmp_path_factory):
    """One migrated SQLite database with the areas; each generated example replaces the incidents."""
    from tests.indicator_world import seed_regions

    url = sqlite_copy(migrated_template(), tmp_path_factory.mktemp("ind") / "i.db")
    factory = session_factory(make_engine(url))
    with transaction(factory) as s:
        seed_regions(s)
    return factory


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(DISTRICTS), st.sampled_from(["fall", "traffic", "bullying"]),
                          st.integers(1, 7)), max_size=40))
def test_no_emitted_cell_comes_from_fewer_than_5_children(scratch_province, incidents):
    factory = scratch_province
    with transaction(factory) as s:
        s.execute(delete(IncidentFact))
        s.add_all([IncidentFact(event_id=f"e{n}", school_id="SCH-x", district_code=d, category=c, month=MONTH,
                                occurred_at=NOW, children=k) for n, (d, c, k) in enumerate(incidents)])
    with factory() as s:
        for code in AREAS:
            for cell in emitted_cells(indicator_page(s, code, MONTH, NOW)):
                assert cell.shown is None or cell.children is None or cell.children == 0 or cell.children >= THRESHOLD


grids = st.lists(st.lists(st.integers(0, 12), min_size=1, max_size=5), min_size=1, max_size=6).filter(
    lambda g: len({len(r) for r in g}) == 1)


@given(grids)
def test_what_a_group_hides_is_never_one_cell_nor_fewer_than_5_children_together(grid):
    """Rows of categories beside their totals, columns beside the parent: subtraction reveals only what a
    group hides together, which must be several cells about at least 5 children."""
    cells = [[Cell(v, v) for v in row] for row in grid]
    row_totals = [Cell(sum(row), sum(row)) for row in grid]
    col_totals = [Cell(sum(col), sum(col)) for col in zip(*grid, strict=True)]
    grand = Cell(sum(map(sum, grid)), sum(map(sum, grid)))
    groups = [Group(tuple(r), t) for r, t in zip(cells, row_totals, strict=True)]
    groups += [Group(tuple(col), t) for col, t in zip(zip(*cells, strict=True), col_totals, strict=True)]
    groups += [Group(tuple(row_totals), grand), Group(tuple(col_totals), grand)]
    everything = [c for r in cells for c in r] + row_totals + col_totals + [grand]
    suppress(everything, groups)
    for cell in everything:
        assert cell.hidden or cell.children == 0 or cell.children >= THRESHOLD
    for group in groups:
        if group.total.hidden:
            continue
        hidden = [m for m in group.members if m.hidden]
        assert not hidden or (len(hidden) >= 2 and sum(m.children for m in hidden) >= THRESHOLD)


NASTY = ["", "2026-13", "2026-1", "2026-10\n", "２０２６-１０", "2026-10\u200b", "\u202e2026-10", "🙂", "x" * 10_000,
         "2026-00", "26-10"]


@pytest.fixture()
def regions_only(db_url):
    from tests.indicator_world import seed_regions

    factory = session_factory(make_engine(db_url))
    with transaction(factory) as s:
        seed_regions(s)
    return factory


@pytest.mark.parametrize("month", NASTY)
def test_a_bad_month_is_refused_naming_the_field(regions_only, month):
    factory = regions_only
    with factory() as s, pytest.raises(IndicatorInputError) as refused:
        indicator_page(s, PROVINCE, month, NOW)
    assert refused.value.errors[0].field == "month"
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize("area", ["", "14000", "1401000", "１４００００", "140100\n", "999900", "🙂", "1" * 5000])
def test_an_unknown_area_is_refused_naming_the_field(regions_only, area):
    factory = regions_only
    with factory() as s, pytest.raises(IndicatorInputError) as refused:
        indicator_page(s, area, MONTH, NOW)
    assert refused.value.errors[0].field == "area"


def test_facts_are_recorded_once_and_only_what_counts(db_url):
    factory = session_factory(make_engine(db_url))
    inspection = SafetyReportFiledEvent.new(SafetyReportFiled.model_validate({
        "school_id": "SCH-140105-0000", "district_code": "140105", "filed_at": NOW, "inspector_unit": "EDU-T",
        "body": {"kind": "inspection", "items": [{"area": "buildings", "item": "楼梯扶手", "result": "pass"}]}}),
        source="/t", id="insp-1")
    drill = SafetyReportFiledEvent.new(SafetyReportFiled.model_validate({
        "school_id": "SCH-140105-0000", "district_code": "140105", "filed_at": NOW, "inspector_unit": "EDU-T",
        "body": {"kind": "drill", "drill_kind": "evacuation", "held_on": "2026-10-31", "participants": 40}}),
        source="/t", id="drill-1")
    published = RecallPublishedEvent.new(recall(recall_number="SAMR-T-1", sales_regions=["140100", "140100", "140202"]),
                                         source="/t", id="r1")
    updated = RecallPublishedEvent.new(recall(recall_number="SAMR-T-1", action="updated", sales_regions=["140000"]),
                                       source="/t", id="r2")
    with transaction(factory) as s:
        assert record(s, [inspection, drill, published, updated]) == 3
    with transaction(factory) as s:
        assert record(s, [drill, published, drill]) == 0  # a replay adds nothing
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(DrillFact)) == 1
        assert s.scalar(select(DrillFact.month)) == "2026-10"
        assert sorted(s.scalars(select(RecallFact.region_code))) == ["140100", "140202"]
        assert s.scalar(select(func.count()).select_from(IncidentFact)) == 0


REGIONS_CSV = ("code,name,level,parent_code,children,children_year,source\n"
               "140000,测试省,province,,,,\n140100,测试甲市,city,140000,,,\n"
               "140105,测试一区,district,140100,52000,2025,测试统计年鉴\n140106,测试二区,district,140100,,,\n")


def test_regions_load_from_csv_and_feed_the_rates(db_url):
    from consumers.indicators.models import Region
    from consumers.indicators.regions import load_regions, parse_regions

    factory = session_factory(make_engine(db_url))
    with transaction(factory) as s:
        assert load_regions(s, parse_regions(REGIONS_CSV)) == 4
    with transaction(factory) as s:  # loading again updates in place
        load_regions(s, parse_regions(REGIONS_CSV.replace("140106,测试二区,district,140100,,,",
                                                          "140106,测试二区,district,140100,61000,2025,年鉴")))
    with factory() as s:
        assert s.get(Region, "140106").children == 61000
        assert indicator_page(s, "140100", MONTH, NOW).total.population == 113000


@pytest.mark.parametrize("line, field", [
    ("1401051,x,district,140100,1,2025,", "code"), ("１４０１０５,x,district,140100,1,2025,", "code"),
    ("140105,x,county,140100,1,2025,", "level"), ("140105,x,city,140000,,,", "code"),
    ("140105,,district,140100,1,2025,", "name"), ("140105,x,district,,1,2025,", "parent_code"),
    ("140105,x,district,140100,-5,2025,", "children"), ("140105,x,district,140100,５,2025,", "children"),
    ("140105,x,district,140100,1e9,2025,", "children"), ("140100,x,city,140000,900,2025,", "children"),
    ("140105,\u202ex\u200b" + "y" * 200 + ",district,140100,1,2025,", "name"),
])
def test_a_bad_regions_row_is_refused_naming_its_line_and_field(line, field):
    from consumers.indicators.regions import parse_regions
    from contracts.errors import ContractError

    with pytest.raises(ContractError) as refused:
        parse_regions("code,name,level,parent_code,children,children_year,source\n" + line + "\n")
    assert refused.value.errors[0].field == f"line 2: {field}"
