"""A realistic, entirely fictional city directory for demos, tests and benchmarks.

Schools spread over a city's districts with classes, children (ids only), one or two guardians per
child (siblings share them), school contacts, agencies with duty officers, and product registrations.
Phone numbers: no reserved fictional range holds 500,000 numbers, so every generated number comes from
one documented block, **+86 199 0000 0000 upwards** (``PHONE_BLOCK_START``), numbered sequentially;
use these directories only against the local Twilio-compatible sandbox, never a real provider.
Rows are streamed out as they are made, so memory stays flat whatever the size.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from contracts.common import AgencyKind
from contracts.recall import ProductKind

PHONE_BLOCK_START = 8619900000000
DISTRICTS = ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112", "310113",
             "310114", "310115", "310116", "310117", "310118", "310120", "310151")
SCHOOL_KINDS = (("kindergarten", 0.35), ("primary", 0.4), ("middle", 0.25))
CLASS_SIZE = 35
AGENCY_KINDS = (AgencyKind.PUBLIC_SECURITY, AgencyKind.CIVIL_AFFAIRS, AgencyKind.EDUCATION, AgencyKind.HEALTH,
                AgencyKind.MARKET_REGULATION)
# Every brand and model here is invented for test data (no real manufacturer's names). Kinds are
# contracts.recall.ProductKind values (a stroller has no kind of its own: other), so holdings validate.
SCHOOL_PRODUCTS = ((ProductKind.SCHOOL_BUS, "校车", "示例客车", "TEST-BUS-29"),
                   (ProductKind.PLAYGROUND_EQUIPMENT, "滑梯", "测试游乐", "HT-300"),
                   (ProductKind.CRIB, "婴儿床", "测试童床", "BB-12"), (ProductKind.CANTEEN_SUPPLY, "食用油", "测试粮油", "5L"))
GUARDIAN_PRODUCTS = ((ProductKind.CHILD_CAR_SEAT, "儿童安全座椅", "测试安途", "TS-FIX"),
                     (ProductKind.OTHER, "婴儿推车", "测试童行", "TC-C400"), (ProductKind.TOY, "磁力积木", "测试积木", "M-88"))


@dataclass
class GeneratedCounts:
    files: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int = 1) -> None:
        self.files[name] = self.files.get(name, 0) + n


class _Phones:
    def __init__(self) -> None:
        self.next = PHONE_BLOCK_START

    def take(self) -> str:
        self.next += 1
        return f"+{self.next - 1}"


def generate_rows(schools: int, guardians: int, seed: int = 7) -> Iterator[tuple[str, dict]]:
    """Yield (file name, row) in dependency order per school: a school's classes before its children."""
    rng, phones = random.Random(seed), _Phones()
    city = DISTRICTS[0][:4] + "00"  # each kind's city bureau supervises its district bureaus (the console's supervisor)
    for kind in AGENCY_KINDS:
        yield "agencies.csv", {"id": f"AG-{city}-{kind.value}", "kind": kind.value, "district_code": city,
                               "name": f"测试机构 {city} {kind.value}（市局）", "supervisor_id": ""}
    for code in DISTRICTS[: max(1, min(len(DISTRICTS), schools))]:
        for k, kind in enumerate(AGENCY_KINDS):
            agency = f"AG-{code}-{kind.value}"
            yield "agencies.csv", {"id": agency, "kind": kind.value, "district_code": code,
                                   "name": f"测试机构 {code} {kind.value}", "supervisor_id": f"AG-{city}-{kind.value}"}
            for order in range(2):
                yield "duty_officers.csv", {"id": f"DO-{code}-{k}-{order}", "agency_id": agency,
                                            "name": f"Test Officer {code}-{k}-{order}", "phone": phones.take(),
                                            "contact_order": order, "active": "true"}
    made = 0
    for s in range(schools):
        school, code = f"SCH{s:05d}", DISTRICTS[s % len(DISTRICTS)]
        kind = rng.choices([k for k, _ in SCHOOL_KINDS], [w for _, w in SCHOOL_KINDS])[0]
        yield "schools.csv", {"id": school, "name": f"测试学校 {s:05d}", "kind": kind, "district_code": code,
                              "lat": f"{31.0 + rng.random() * 0.5:.5f}", "lon": f"{121.2 + rng.random() * 0.6:.5f}"}
        for order, role in enumerate(("head", "safety_officer")):
            yield "school_contacts.csv", {"id": f"{school}-C{order}", "school_id": school, "role": role,
                                          "phone": phones.take(), "language": "zh-CN", "contact_order": order}
        if rng.random() < 0.3:
            p_kind, p_name, brand, model = rng.choice(SCHOOL_PRODUCTS)
            yield "product_registrations.csv", _registration(f"PR-{school}", "school", school, p_kind, p_name,
                                                             brand, model, rng)
        quota = guardians // schools + (1 if s < guardians % schools else 0)
        yield from _school_families(school, quota, made, rng, phones)
        made += quota


def _school_families(school: str, quota: int, made: int, rng: random.Random, phones: _Phones):
    taken, child, previous = 0, 0, []
    while taken < quota:
        class_id = f"{school}-K{child // CLASS_SIZE:03d}"
        if child % CLASS_SIZE == 0:
            yield "classes.csv", {"id": class_id, "school_id": school, "name": f"{child // CLASS_SIZE + 1}班",
                                  "grade": (child // CLASS_SIZE) % 6 + 1}
        child_id = f"{school}-S{child:05d}"
        yield "children.csv", {"id": child_id, "school_id": school, "class_id": class_id}
        if previous and rng.random() < 0.08:  # a sibling: same guardians, same order
            family = previous
        else:
            family = []
            for _ in range(1 if quota - taken == 1 or rng.random() < 0.4 else 2):
                gid = f"G{made + taken:07d}"
                taken += 1
                family.append(gid)
                yield "guardians.csv", {"id": gid, "phone": phones_for(made + taken - 1),
                                        "language": "en" if rng.random() < 0.05 else "zh-CN"}
                if rng.random() < 0.05:
                    p_kind, p_name, brand, model = rng.choice(GUARDIAN_PRODUCTS)
                    yield "product_registrations.csv", _registration(f"PR-{gid}", "guardian", gid, p_kind, p_name,
                                                                     brand, model, rng)
        for order, gid in enumerate(family):
            yield "child_guardians.csv", {"child_id": child_id, "guardian_id": gid, "contact_order": order}
        previous, child = family, child + 1


def phones_for(guardian_index: int) -> str:
    """Guardians take the top half of the block so their numbers never collide with contacts'."""
    return f"+{PHONE_BLOCK_START + 50_000_000 + guardian_index}"


def _registration(rid, holder_kind, holder_id, p_kind, p_name, brand, model, rng) -> dict:
    return {"id": rid, "holder_kind": holder_kind, "holder_id": holder_id, "product_kind": p_kind.value,
            "product_name": p_name, "brand": brand, "model": model, "batch": f"B{rng.randint(2024001, 2026365)}",
            "barcode": gtin13(f"69{rng.randint(10**10, 10**11 - 1)}"[:12])}  # same draws as before


def gtin13(body: str) -> str:
    """A 12-digit body with its GS1 mod-10 check digit: generated barcodes are valid GTIN-13s."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def write_csv(out_dir: Path, schools: int, guardians: int, seed: int = 7) -> GeneratedCounts:
    from consumers.directory.columns import BY_FILE

    out_dir.mkdir(parents=True, exist_ok=True)
    counts = GeneratedCounts()
    with ExitStack() as stack:
        writers = {}
        for name, spec in BY_FILE.items():
            if name == "opt_outs.csv":
                continue
            handle = stack.enter_context((out_dir / name).open("w", newline="", encoding="utf-8"))
            writers[name] = csv.DictWriter(handle, fieldnames=[c.name for c in spec.columns])
            writers[name].writeheader()
        for name, row in generate_rows(schools, guardians, seed):
            writers[name].writerow(row)
            counts.add(name)
    return counts
