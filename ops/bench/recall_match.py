"""Benchmark: one recall matched against 1,000,000 registrations — the streams path (in-memory holdings index
of one worker's partitions, graded) against a plain indexed database look-up of the same identifiers.

    .venv/bin/python -m ops.bench.recall_match [--registrations 1000000] [--recalls 200]

Data are generated: 1,000,000 registrations (guardians with 1-3 products each) over 50,000 fictional products;
each timed recall names barcode, brand, model, batch and name of one catalogue product (some without barcode or
brand). The SQL side is SQLite (file, indexes on barcode, (brand, model), model, (name, model); WAL), asked the same
three look-ups the index makes, returning the candidate rows; grading is not counted on that side, so the
comparison favours the database.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from contracts.recall import RecallPublished
from contracts.recall_match import Product, RecallKeys, gtin14, norm
from streams.recalls.holdings import Holding, HoldingsIndex

BRANDS = [f"测试牌{i:03d}" for i in range(300)]
NAMES = ["儿童滑板车", "婴儿床", "儿童安全座椅", "学步车", "儿童水杯", "积木玩具", "儿童自行车", "校服外套", "书包", "午餐盒"]


def _gtin(n: int) -> str:
    body = f"69{n:010d}"
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return body + str((10 - total % 10) % 10)


def catalogue(size: int, rng: random.Random) -> list[tuple]:
    return [(NAMES[i % len(NAMES)], rng.choice(BRANDS), f"M-{i:05d}", _gtin(i)) for i in range(size)]


def generate(n: int, products: list[tuple], rng: random.Random):
    """(holder id, registration id, name, brand, model, batch, barcode): guardians hold 1-3 products."""
    reg, holder = 0, 0
    while reg < n:
        holder += 1
        for _ in range(min(rng.randint(1, 3), n - reg)):
            name, brand, model, barcode = rng.choice(products)
            batch = f"B{rng.randint(1, 12):02d}"
            if rng.random() < 0.3:
                barcode = None  # many registrations carry no barcode
            yield f"G{holder:07d}", f"R{reg:07d}", name, brand, model, batch, barcode
            reg += 1


def build_index(rows: list[tuple], partitions: int) -> HoldingsIndex:
    index = HoldingsIndex()
    by_holder: dict[str, list[Product]] = {}
    for holder, rid, name, brand, model, batch, barcode in rows:
        by_holder.setdefault(holder, []).append(Product.of(rid, name, brand, model, batch, barcode))
    for holder, products in by_holder.items():
        index.put(f"guardian:{holder}", Holding(hash(holder) % partitions, "guardian", holder, None, tuple(products)))
    return index


def build_db(rows: list[tuple], path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE product_registrations (id TEXT PRIMARY KEY, holder_id TEXT, name_norm TEXT, "
               "brand_norm TEXT, model_norm TEXT, batch_norm TEXT, barcode TEXT)")
    db.executemany("INSERT INTO product_registrations VALUES (?,?,?,?,?,?,?)",
                   ((rid, h, norm(n), norm(b), norm(m), norm(bt), gtin14(bc)) for h, rid, n, b, m, bt, bc in rows))
    for cols in ("barcode", "brand_norm, model_norm", "model_norm", "name_norm, model_norm"):
        db.execute(f"CREATE INDEX ix_{cols.replace(', ', '_')} ON product_registrations ({cols})")
    db.commit()
    return db


def db_lookup(db: sqlite3.Connection, keys: RecallKeys) -> list[tuple]:
    """The same three look-ups the index makes (barcode, model, name), candidate rows returned."""
    rows: dict[str, tuple] = {}
    name_only = "name_norm = ? AND model_norm IS NULL" if keys.model else "name_norm = ?"
    for where, value in (("barcode = ?", keys.barcode), ("model_norm = ?", keys.model), (name_only, keys.name)):
        if value:
            for row in db.execute(f"SELECT * FROM product_registrations WHERE {where}", (value,)):
                rows[row[0]] = row
    return list(rows.values())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--registrations", type=int, default=1_000_000)
    ap.add_argument("--recalls", type=int, default=200)
    ap.add_argument("--partitions", type=int, default=6)
    args = ap.parse_args()
    rng = random.Random(42)
    products = catalogue(50_000, rng)
    started = time.perf_counter()
    rows = list(generate(args.registrations, products, rng))
    print(f"generated {len(rows):,} registrations in {time.perf_counter() - started:.1f}s")
    started = time.perf_counter()
    index = build_index(rows, args.partitions)
    print(f"index of {len(index):,} holders built in {time.perf_counter() - started:.1f}s")
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        db = build_db(rows, Path(tmp) / "registrations.db")
        print(f"SQLite table + 4 indexes built in {time.perf_counter() - started:.1f}s")
        recalls = []
        for i in range(args.recalls):
            name, brand, model, barcode = products[rng.randrange(len(products))]
            recalls.append(RecallPublished(
                recall_number=f"BENCH-{i:04d}", published_on=date(2026, 11, 20), producer="测试厂", product_name=name,
                brand=None if i % 4 == 1 else brand, model=model, batch="B03" if i % 2 else None,
                barcode=None if i % 4 == 2 else barcode, hazard_type="测试", hazard_description="测试",
                remedy="测试", risk_level="high"))
        index_s, db_s, matched = [], [], 0
        for recall in recalls:  # interleaved, so both sides see the same machine load
            t0 = time.perf_counter()
            keys = RecallKeys.of(recall)
            found = [m for p in range(args.partitions) for m in index.match(p, keys)]
            t1 = time.perf_counter()
            db_lookup(db, RecallKeys.of(recall))
            t2 = time.perf_counter()
            index_s.append(t1 - t0)
            db_s.append(t2 - t1)
            matched += len(found)
        db.close()
    for label, xs in (("streams index (all partitions, graded)", index_s), ("SQLite indexed look-up (ungraded)", db_s)):
        xs = sorted(xs)
        print(f"{label:40s} median {statistics.median(xs) * 1e3:7.3f} ms  p95 {xs[int(len(xs) * 0.95)] * 1e3:7.3f} ms"
              f"  per recall")
    print(f"{args.recalls} recalls, {matched / args.recalls:.1f} graded holders per recall on average")


if __name__ == "__main__":
    main()
