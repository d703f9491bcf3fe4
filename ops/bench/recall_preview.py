"""How long the console's recall preview takes to count its reach (console.recalls.reach) over N made-up
registrations in a fresh SQLite database (or an existing, migrated database given by --url).

    .venv/bin/python -m ops.bench.recall_preview --registrations 100000
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date

from sqlalchemy import insert

from console.recalls import reach, sms_preview
from consumers.store.db import make_engine, session_factory
from consumers.store.directory import ProductRegistration
from consumers.store.migrate import upgrade
from contracts.recall import RecallPublished

GTIN = "6901234567892"  # made up, valid check digit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registrations", type=int, default=100_000)
    parser.add_argument("--url", default="", help="a migrated database (default: a fresh SQLite file)")
    args = parser.parse_args()
    url = args.url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    if not args.url:
        upgrade(url)
    engine = make_engine(url)
    rng = random.Random(7)
    n = args.registrations
    with engine.begin() as conn:
        for start in range(0, n, 10_000):
            conn.execute(insert(ProductRegistration), [dict(
                id=f"B{i}", holder_kind="guardian", holder_id=f"BG{i // 2}", product_kind="toy",
                product_name=rng.choice(["儿童滑板车", "积木", "婴儿床", "安全座椅"]), brand=rng.choice(["示例牌", "测试牌", None]),
                model=rng.choice(["HB-200", "HB-300", "BB-12", None]), batch=rng.choice(["20260601", None]),
                barcode=rng.choice([GTIN, None, None, None])) for i in range(start, min(n, start + 10_000))])
    notice = RecallPublished(recall_number="SAMR-BENCH-1", published_on=date(2026, 11, 20), producer="示例玩具有限公司",
                             product_name="儿童滑板车", product_kind="toy", brand="示例牌", model="HB-200",
                             batch="20260601", barcode=GTIN, hazard_type="机械伤害", hazard_description="折叠机构可能松脱。",
                             remedy="停止使用", risk_level="high")
    factory = session_factory(engine)
    for _ in range(2):
        started = time.perf_counter()
        with factory() as session:
            counts, _ = reach(session, notice)
        print(f"reach over {n} registrations: {time.perf_counter() - started:.2f} s {counts}")
    started = time.perf_counter()
    sms_preview(notice)
    print(f"sms preview: {(time.perf_counter() - started) * 1000:.1f} ms")
    engine.dispose()


if __name__ == "__main__":
    main()
