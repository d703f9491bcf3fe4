"""The recall preview's reach (indexed look-ups by GTIN, model and name) equals the streams matcher's
(``streams.recalls.holdings.HoldingsIndex`` over the holdings the directory publishes) on generated registrations,
grade by grade and weak match by weak match, on SQLite and PostgreSQL; the match keys follow every writer
(insert, upsert, the migration's back-fill); and the look-up uses the indexes (no scan)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, insert, select, text

from console.recalls import reach
from consumers.directory.reference_topics import PublishReport, holdings_of
from consumers.directory.upsert import upsert
from consumers.store.db import make_engine, session_factory
from consumers.store.directory import ProductRegistration, registration_keys
from contracts.clock import FakeClock
from contracts.recall import RecallPublished
from contracts.recall_match import Grade, RecallKeys
from streams.recalls.holdings import Holding, HoldingsIndex
from tests.databases import migrated_sqlite

CLOCK = FakeClock(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))


def gtin(body12: str) -> str:
    """A made-up EAN-13 with a valid check digit."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


GTINS = [gtin("690123456789"), gtin("690000000001"), gtin("690000000002")]
NAMES = ["儿童滑板车", "儿童 滑板车", "积木", "婴儿床", "ＳＣＯＯＴＥＲ", "scooter"]
BRANDS = ["示例牌", "示例牌 ", "测试牌", "ＳＡＭＰＬＥ", "sample", None]
MODELS = ["HB-200", "hb 200", "ＨＢ－２００", "HB200", "HB-300", "BB-12", None]
BATCHES = ["20260601", "2026-06-01", "20260701", None]
BARCODES = [GTINS[0], "0" + GTINS[0], GTINS[1], GTINS[2], None, None]

ROW = st.fixed_dictionaries({
    "holder": st.integers(0, 12), "product_name": st.sampled_from(NAMES + [None]), "brand": st.sampled_from(BRANDS),
    "model": st.sampled_from(MODELS), "batch": st.sampled_from(BATCHES), "barcode": st.sampled_from(BARCODES),
    "kind": st.sampled_from(["guardian", "school"])})
RECALL = st.fixed_dictionaries({
    "product_name": st.sampled_from(NAMES), "brand": st.sampled_from(BRANDS), "model": st.sampled_from(MODELS),
    "batch": st.sampled_from(BATCHES), "barcode": st.sampled_from(BARCODES)})


def registration(n: int, r: dict) -> dict:
    return dict(id=f"R{n:05d}", holder_kind=r["kind"], holder_id=f"H{r['holder']:03d}", product_kind="toy",
                product_name=r["product_name"], brand=r["brand"], model=r["model"], batch=r["batch"],
                barcode=r["barcode"])


def notice(r: dict) -> RecallPublished:
    return RecallPublished(recall_number="SAMR-T-9", published_on=date(2026, 11, 20), producer="示例玩具有限公司",
                           product_name=r["product_name"], product_kind="toy", brand=r["brand"], model=r["model"],
                           batch=r["batch"], barcode=r["barcode"], hazard_type="机械伤害",
                           hazard_description="折叠机构可能松脱。", remedy="停止使用", risk_level="high")


def stream_index(engine) -> HoldingsIndex:
    """The streams worker's index of the holdings the directory publishes from ``engine``."""
    index, report = HoldingsIndex(), PublishReport()
    for holdings in holdings_of(engine, CLOCK, report):
        holding = Holding.of(0, holdings)
        index.put(holding.key, holding)
    assert report.problems == []
    return index


def stream_reach(index: HoldingsIndex, recall: RecallPublished) -> tuple[dict[str, int], list]:
    """What the streams worker would match, graded as in the worker."""
    counts = {g.name.lower(): 0 for g in Grade}
    weak = []
    for m in index.match(0, RecallKeys.of(recall)):
        counts[m.grade.name.lower()] += 1
        if m.grade is Grade.WEAK:
            weak.append((m.holder_kind, m.holder_id, m.registration_ids, m.reason))
    return counts, sorted(weak)


def preview_reach(engine, recall: RecallPublished) -> tuple[dict[str, int], list]:
    with session_factory(engine)() as session:
        counts, weak = reach(session, recall)
    return counts, sorted(weak)


@pytest.fixture(scope="module")
def sqlite_engine(tmp_path_factory):
    with migrated_sqlite(tmp_path_factory.mktemp("reach")) as engine:
        yield engine


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(ROW, max_size=40), recall=RECALL)
def test_the_preview_grades_every_generated_holder_as_the_stream_matcher_does(sqlite_engine, rows, recall):
    with sqlite_engine.begin() as conn:
        conn.execute(delete(ProductRegistration))
        if rows:
            conn.execute(insert(ProductRegistration), [registration(n, r) for n, r in enumerate(rows)])
    r = notice(recall)
    assert preview_reach(sqlite_engine, r) == stream_reach(stream_index(sqlite_engine), r)


def test_the_preview_equals_the_stream_matcher_on_a_generated_population(db_url):
    """Both databases, 3,000 registrations written through the directory's upsert, 40 recalls."""
    rng = random.Random(11)
    engine = make_engine(db_url)
    try:
        rows = [registration(n, {"holder": rng.randrange(1200), "product_name": rng.choice(NAMES + [None]),
                                 "brand": rng.choice(BRANDS), "model": rng.choice(MODELS),
                                 "batch": rng.choice(BATCHES), "barcode": rng.choice(BARCODES),
                                 "kind": rng.choice(["guardian", "school"])}) for n in range(3000)]
        with engine.begin() as conn:
            upsert(conn, ProductRegistration.__table__, rows, ("id",))
        seen, index = 0, stream_index(engine)  # the population is fixed: one index for every recall
        for _ in range(40):
            r = notice({"product_name": rng.choice(NAMES), "brand": rng.choice(BRANDS), "model": rng.choice(MODELS),
                        "batch": rng.choice(BATCHES), "barcode": rng.choice(BARCODES)})
            preview = preview_reach(engine, r)
            assert preview == stream_reach(index, r), r
            seen += sum(preview[0].values())
        assert seen > 0, "the generated recalls reach somebody"
    finally:
        engine.dispose()


def test_the_match_keys_follow_inserts_upserts_and_the_back_fill(db_url):
    engine = make_engine(db_url)
    R = ProductRegistration
    try:
        with engine.begin() as conn:
            conn.execute(insert(R), [dict(id="K1", holder_kind="guardian", holder_id="G1", product_kind="toy",
                                          product_name=None, model="ＨＢ－２００", barcode=GTINS[0])])
            upsert(conn, R.__table__, [dict(id="K1", holder_kind="guardian", holder_id="G1", product_kind="toy",
                                            product_name="儿童 滑板车", brand="Sample", model="hb 300",
                                            batch="2026-06-01", barcode=None)], ("id",))
            row = conn.execute(select(R.name_key, R.brand_key, R.model_key, R.batch_key, R.barcode_key)).one()
        assert tuple(row) == ("儿童滑板车", "sample", "hb300", "20260601", None)
        assert registration_keys({"product_kind": "crib", "model": "BB-12"})["name_key"] == "crib"
    finally:
        engine.dispose()


def test_the_migration_back_fills_the_keys_of_existing_registrations(tmp_path):
    from consumers.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "sms_0002")  # the schema before the match keys
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO product_registrations (id, holder_kind, holder_id, product_kind, "
                              "product_name, brand, model, batch, barcode) VALUES "
                              "('OLD1', 'school', 'S1', 'toy', NULL, 'ＳＡＭＰＬＥ', 'HB-200', NULL, :b)"),
                         {"b": GTINS[1]})
        upgrade(url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT name_key, brand_key, model_key, batch_key, barcode_key "
                                    "FROM product_registrations")).one()
        assert tuple(row) == ("toy", "sample", "hb200", None, "0" + GTINS[1])
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_look_ups_use_the_indexes(db_url):
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            for column in ("barcode_key", "model_key", "name_key"):
                plan = " ".join(str(r[-1]) for r in conn.execute(text(
                    f"EXPLAIN QUERY PLAN SELECT id FROM product_registrations WHERE {column} = 'x'")))
                assert f"ix_product_registrations_{column}" in plan, plan
    finally:
        engine.dispose()
