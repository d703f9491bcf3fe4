"""The directory's reference topics for the streams layer: each holder's products and each school's place.

``registrations.holdings.v1`` gets one record per holder (key ``school:<id>`` / ``guardian:<id>``) with its
full product list; ``directory.schools.v1`` one record per school (key: school id) with its coordinates.
Both topics are compacted and every record is the full current state, so publishing again is harmless
(idempotent producer, acks=all; ``flush`` raises if anything was not acknowledged). Rows that do not fit
the contract are reported, not published: a registration whose fields do not validate, a school without
coordinates (no CAP area or missing-child ring can reach it until it has some).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from consumers.store.core import School
from consumers.store.directory import ProductRegistration
from contracts.clock import Clock
from contracts.events import ProductHoldingsEvent, SchoolLocatedEvent
from contracts.registration import ProductHoldings, RegisteredProduct
from contracts.school_location import SchoolLocated

SOURCE = "/childsafe/directory"
STREAM_ROWS = 5000  # rows fetched per round trip: memory stays flat for millions of registrations


class RecordSink(Protocol):
    def send(self, key: bytes, value: bytes) -> None: ...

    def flush(self) -> None:
        """Return once every record sent so far is acknowledged; raise otherwise."""


@dataclass
class PublishReport:
    holders: int = 0
    products: int = 0
    schools: int = 0
    problems: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"holders": self.holders, "products": self.products, "schools": self.schools,
                "problems": self.problems[:100], "problem_count": len(self.problems)}


def publish_reference(engine: Engine, holdings_sink: RecordSink, schools_sink: RecordSink, clock: Clock) -> PublishReport:
    """Publish every holder's holdings and every located school; returns once Kafka acknowledged all."""
    report = PublishReport()
    now = clock.now()
    for holdings in holdings_of(engine, clock, report):
        event = ProductHoldingsEvent.new(holdings, source=SOURCE, subject=holdings.holder_key, time=now)
        holdings_sink.send(holdings.holder_key.encode(), event.to_bytes())
        report.holders += 1
        report.products += len(holdings.products)
    for place in schools_of(engine, report):
        event = SchoolLocatedEvent.new(place, source=SOURCE, subject=place.school_id, time=now)
        schools_sink.send(place.school_id.encode(), event.to_bytes())
        report.schools += 1
    holdings_sink.flush()
    schools_sink.flush()
    return report


def holdings_of(engine: Engine, clock: Clock, report: PublishReport) -> Iterator[ProductHoldings]:
    """Registrations grouped by holder, streamed in (holder kind, holder id) order."""
    R = ProductRegistration
    query = select(R).order_by(R.holder_kind, R.holder_id, R.id).execution_options(yield_per=STREAM_ROWS)
    current, products = None, []
    with engine.connect() as conn:
        for row in conn.execute(query):
            holder = (row.holder_kind, row.holder_id)
            if holder != current and current is not None:
                yield _holdings(current, products, clock)
                products = []
            current = holder
            try:
                products.append(_product(row))
            except ValidationError as exc:
                first = exc.errors()[0]
                report.problems.append(f"product_registrations {row.id}: {'.'.join(map(str, first['loc']))}: "
                                       f"{first['msg']} (got {str(first.get('input'))[:40]!r}); not published")
    if current is not None:
        yield _holdings(current, products, clock)


def _product(row) -> RegisteredProduct:
    return RegisteredProduct(registration_id=row.id, product_kind=row.product_kind,
                             product_name=row.product_name or row.product_kind, brand=row.brand, model=row.model,
                             batch=row.batch, barcode=row.barcode)


def holder_record(session: Session, holder_kind: str, holder_id: str, clock: Clock) -> tuple[bytes, bytes]:
    """(key, value) of one holder's current holdings for ``registrations.holdings.v1`` (an empty list when the
    holder has none left): what a change to one holder's registrations publishes (console/guardians.py)."""
    R = ProductRegistration
    rows = session.scalars(select(R).where(R.holder_kind == holder_kind, R.holder_id == holder_id).order_by(R.id))
    holdings = _holdings((holder_kind, holder_id), [_product(r) for r in rows], clock)
    event = ProductHoldingsEvent.new(holdings, source=SOURCE, subject=holdings.holder_key, time=clock.now())
    return holdings.holder_key.encode(), event.to_bytes()


def _holdings(holder: tuple[str, str], products: list[RegisteredProduct], clock: Clock) -> ProductHoldings:
    kind, holder_id = holder
    return ProductHoldings(holder_kind=kind, holder_id=holder_id, school_id=holder_id if kind == "school" else None,
                           products=products, updated_at=clock.now())


def schools_of(engine: Engine, report: PublishReport) -> Iterator[SchoolLocated]:
    query = select(School.id, School.district_code, School.lat, School.lon).order_by(School.id)
    with engine.connect() as conn:
        for school_id, district, lat, lon in conn.execute(query):
            if lat is None or lon is None:
                report.problems.append(f"schools {school_id}: lat/lon: missing; not published (no CAP area or "
                                       "missing-child ring reaches it until it has coordinates)")
                continue
            yield SchoolLocated(school_id=school_id, district_code=district, lat=lat, lon=lon)
