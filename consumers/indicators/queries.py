"""The province's indicators (plan item 28), per area and month: the one module of queries the console renders.

Every figure is counted per district in SQL (each query filtered by the month and the area's code prefix), then
districts are folded into the rows of the page: a province's cities, a city's districts, or the district itself.
Figures about children (incidents, mandatory cases and their clocks) go through small-cell suppression
(`suppression.py`); figures about schools, recalls and SMS are about no child and are shown as counted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session

from consumers.cases.models import CaseDeadline, MandatoryReportCase
from consumers.indicators.facts import ZONE
from consumers.indicators.models import DrillFact, IncidentFact, RecallFact, Region
from consumers.indicators.suppression import Cell, Group, suppress
from consumers.store.core import School
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.errors import ChildSafeError, FieldError

MONTH = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")
AREA = re.compile(r"[0-9]{6}")
NOT_SENT = ("skipped", "cancelled")  # ledger rows never meant to reach the provider (opted out, alert cancelled)
EVACUATION = "evacuation"  # the drill the stream's overdue check watches (streams/safety/drills.py)


class IndicatorInputError(ChildSafeError):
    """A request for indicators named a month or an area that does not exist; fix the field named."""

    def __init__(self, errors: list[FieldError]):
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    level: str  # province | city | district

    @property
    def prefix(self) -> str:
        return self.code[:2] if self.level == "province" else self.code[:4] if self.level == "city" else self.code


@dataclass
class Row:
    """One area's figures for the month."""

    area: Area
    population: int | None  # children 0-17 (None: some district under it has no population on record)
    incidents: dict[str, Cell] = field(default_factory=dict)  # by category
    incidents_total: Cell = field(default_factory=lambda: Cell(0, 0))
    cases: Cell = field(default_factory=lambda: Cell(0, 0))
    forwarded_in_time: Cell = field(default_factory=lambda: Cell(None, 0))  # share, 0-1
    acknowledged_in_time: Cell = field(default_factory=lambda: Cell(None, 0))
    breaches: Cell = field(default_factory=lambda: Cell(0, 0))
    escalations: Cell = field(default_factory=lambda: Cell(0, 0))
    recalls: int = 0
    recall_recipients: int = 0
    recall_delivered: int = 0
    drills_done: int = 0
    schools: int = 0
    drills_overdue: int = 0
    sms_sent: int = 0
    sms_delivered: int = 0

    def per_10k(self, cell: Cell) -> float | None:
        value = cell.shown
        if value is None or not self.population:
            return None
        return round(value * 10_000 / self.population, 2)

    @property
    def sms_delivered_share(self) -> float | None:
        return self.sms_delivered / self.sms_sent if self.sms_sent else None

    @property
    def recall_delivered_share(self) -> float | None:
        return self.recall_delivered / self.recall_recipients if self.recall_recipients else None


@dataclass
class IndicatorPage:
    area: Area
    month: str
    parents: list[Area]  # from the province down to the area's parent (the drill-down trail)
    rows: list[Row]  # the areas under `area` (a district: itself)
    total: Row
    categories: list[str]  # categories with any incident in the area this month
    sms_unknown: Row  # the month's SMS with no recipient's district on record (counted in no area above)


def parse_month(value: str) -> tuple[datetime, datetime]:
    """'YYYY-MM' → [first instant, first instant of the next month) in Asia/Shanghai, as UTC."""
    found = MONTH.fullmatch(value or "")
    if not found:
        raise IndicatorInputError([FieldError("month", "a month as YYYY-MM (01-12)", (value or "")[:40])])
    year, month = int(found.group(1)), int(found.group(2))
    start = datetime(year, month, 1, tzinfo=ZONE)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=ZONE)
    return start.astimezone(UTC), end.astimezone(UTC)


def area_of(session: Session, code: str) -> Area:
    if not AREA.fullmatch(code or ""):
        raise IndicatorInputError([FieldError("area", "a 6-digit GB/T 2260 area code", (code or "")[:40])])
    region = session.get(Region, code)
    if region is None:
        raise IndicatorInputError([FieldError("area", "no such area in the indicator database (regions)", code)])
    return Area(region.code, region.name, region.level)


def within(area: Area, code: str) -> bool:
    return code.startswith(area.prefix)


def indicator_page(session: Session, area_code: str, month: str, now: datetime,
                   drill_period_days: int = 180) -> IndicatorPage:
    """Every figure of one page: the rows under `area_code` for `month`, and their total, suppressed.

    The whole province is counted and suppressed together, so a cell hidden on a city's page is hidden on its
    district's page too (a figure shown on one page could otherwise give away one hidden on another)."""
    start, end = parse_month(month)
    area = area_of(session, area_code)
    tree = province_rows(session, area.code[:2] + "0000", month, start, end, now, drill_period_days)
    if area.code not in tree.rows:
        raise IndicatorInputError([FieldError("area", "no such area in the indicator database (regions)", area_code)])
    total = tree.rows[area.code]
    rows = [total] if area.level == "district" else [tree.rows[c] for c in tree.children.get(area.code, [])]
    return IndicatorPage(area, month, _parents(session, area), rows, total, tree.categories, tree.unknown)


@dataclass
class ProvinceTree:
    rows: dict[str, Row]  # every area of the province: the province, its cities, their districts
    children: dict[str, list[str]]  # area → the areas directly under it
    categories: list[str]
    unknown: Row  # SMS whose recipient the directory did not place when the ledger row was written (no area)


def province_rows(session: Session, province: str, month: str, start: datetime, end: datetime, now: datetime,
                  drill_period_days: int) -> ProvinceTree:
    like = f"{province[:2]}%"
    regions = {r.code: r for r in session.scalars(select(Region).where(Region.code.like(like)))}
    areas = {code: Area(r.code, r.name, r.level) for code, r in regions.items()}
    rows = {code: Row(a, population) for code, a, population in _populations(regions, areas)}
    children: dict[str, list[str]] = {}
    for code in sorted(regions):
        parent = regions[code].parent_code
        if parent is not None and parent in regions:
            children.setdefault(parent, []).append(code)

    def chain(district: str) -> list[Row]:
        """The district's row and every row above it (a code not on record counts in the areas above it)."""
        return [rows[c] for c in dict.fromkeys((district, district[:4] + "00", district[:2] + "0000")) if c in rows]

    categories: set[str] = set()
    for district, category, n, kids in incident_counts(session, like, month):
        categories.add(category)
        for r in chain(district):
            for cell in (r.incidents.setdefault(category, Cell(0, 0)), r.incidents_total):
                cell.value, cell.children = (cell.value or 0) + n, (cell.children or 0) + kids
    tallies: dict[str, dict[str, int]] = {}
    for district, values in case_counts(session, like, start, end, now).items():
        for r in chain(district):
            acc = tallies.setdefault(r.area.code, {})
            for name, v in values.items():
                acc[name] = acc.get(name, 0) + v
    for code, acc in tallies.items():
        _put_cases(rows[code], acc)
    for district, n in drills_done(session, like, month):
        for r in chain(district):
            r.drills_done += n
    month_end = min((end.astimezone(ZONE) - timedelta(days=1)).date(), now.astimezone(ZONE).date())
    for district, schools, overdue in drills_overdue(session, like, month_end, drill_period_days):
        for r in chain(district):
            r.schools += schools
            r.drills_overdue += overdue
    unknown = Row(Area("", "", "unknown"), None)
    for place, sent, delivered, recall_sent, recall_delivered in sms_counts(session, like, start, end):
        for r in chain(place) if place is not None else [unknown]:
            r.sms_sent += sent
            r.sms_delivered += delivered
            r.recall_recipients += recall_sent
            r.recall_delivered += recall_delivered
    recalls = recall_regions(session, month)
    for r in rows.values():
        r.recalls = len({number for number, code in recalls if within(r.area, code) or _covers(code, r.area.code)})
    _suppress(rows, children, sorted(categories))
    return ProvinceTree(rows, children, sorted(categories), unknown)


# --- the queries, one per figure, each grouped by district ------------------------------------------------------

def incident_counts(session: Session, like: str, month: str) -> list[tuple[str, str, int, int]]:
    """(district, category, incidents, children they were about)."""
    i = IncidentFact
    return [(d, c, int(n), int(k or 0)) for d, c, n, k in session.execute(
        select(i.district_code, i.category, func.count(), func.sum(i.children))
        .where(i.month == month, i.district_code.like(like)).group_by(i.district_code, i.category))]


def case_counts(session: Session, like: str, start: datetime, end: datetime, now: datetime) -> dict[str, dict]:
    """Per district: mandatory cases reported in the month, the children they are about, and their clocks."""
    c, i, d = MandatoryReportCase, IncidentFact, CaseDeadline
    in_month = and_(c.reported_at >= start, c.reported_at < end, c.district_code.like(like))
    out: dict[str, dict] = {}
    children = func.coalesce(i.children, literal(1))  # a case whose report was not recorded: at least one child
    for district, n, kids in session.execute(
            select(c.district_code, func.count(), func.sum(children))
            .select_from(c).outerjoin(i, i.event_id == c.report_id).where(in_month).group_by(c.district_code)):
        out[district] = {"cases": n, "children": int(kids or 0)}
    decided = or_(d.met_at.is_not(None), d.due_at <= now)  # met, or its time is up
    on_time = and_(d.met_at.is_not(None), d.met_at <= d.due_at)
    for district, duty, n_decided, n_on_time, breaches, escalations in session.execute(
            select(c.district_code, d.duty, func.sum(case((decided, 1), else_=0)),
                   func.sum(case((on_time, 1), else_=0)),
                   func.sum(case((d.breached_at.is_not(None), 1), else_=0)), func.sum(d.escalation_level))
            .select_from(d).join(c, c.case_id == d.case_id).where(in_month).group_by(c.district_code, d.duty)):
        acc = out.setdefault(district, {"cases": 0, "children": 0})
        acc[f"{duty}_decided"] = int(n_decided or 0)
        acc[f"{duty}_on_time"] = int(n_on_time or 0)
        acc["breaches"] = acc.get("breaches", 0) + int(breaches or 0)
        acc["escalations"] = acc.get("escalations", 0) + int(escalations or 0)
    return out


def drills_done(session: Session, like: str, month: str) -> list[tuple[str, int]]:
    return [(d, int(n)) for d, n in session.execute(
        select(DrillFact.district_code, func.count()).where(DrillFact.month == month,
                                                           DrillFact.district_code.like(like))
        .group_by(DrillFact.district_code))]


def drills_overdue(session: Session, like: str, on: date, period_days: int) -> list[tuple[str, int, int]]:
    """(district, schools, schools whose last evacuation drill by `on` is older than the period, or never held)."""
    last = (select(DrillFact.school_id, func.max(DrillFact.held_on).label("last"))
            .where(DrillFact.drill_kind == EVACUATION, DrillFact.held_on <= on,
                   DrillFact.district_code.like(like)).group_by(DrillFact.school_id).subquery())
    overdue = or_(last.c.last.is_(None), last.c.last < on - timedelta(days=period_days))
    return [(d, int(n), int(late or 0)) for d, n, late in session.execute(
        select(School.district_code, func.count(), func.sum(case((overdue, 1), else_=0)))
        .select_from(School).outerjoin(last, last.c.school_id == School.id)
        .where(School.district_code.like(like)).group_by(School.district_code))]


def recall_regions(session: Session, month: str) -> list[tuple[str, str]]:
    return [(number, code) for number, code in session.execute(
        select(RecallFact.recall_number, RecallFact.region_code).where(RecallFact.month == month))]


def sms_counts(session: Session, like: str, start: datetime, end: datetime) -> list[tuple[str | None, int, int, int, int]]:
    """(district, SMS meant to reach someone, delivered, of which recall SMS, recall SMS delivered), by the
    recipient's district the ledger row was written with (`consumers.directory.districts`); district None: rows
    whose recipient the directory did not place. One grouped scan of the month's rows (by their creation time)."""
    s = SmsLedgerEntry
    meant = s.state.not_in(NOT_SENT)
    delivered = and_(meant, s.provider_status == "delivered")
    recall = s.alert_id.like("recall:%")
    flags = (case((meant, 1), else_=0), case((delivered, 1), else_=0), case((and_(recall, meant), 1), else_=0),
             case((and_(recall, delivered), 1), else_=0))
    return [(d, int(a or 0), int(b or 0), int(c or 0), int(e or 0)) for d, a, b, c, e in session.execute(
        select(s.district_code, *(func.sum(f) for f in flags))
        .where(s.created_at >= start.timestamp(), s.created_at < end.timestamp(),
               or_(s.district_code.like(like), s.district_code.is_(None)))
        .group_by(s.district_code).order_by(s.district_code))]


# --- folding and suppression ----------------------------------------------------------------------------------

def _parents(session: Session, area: Area) -> list[Area]:
    out = []
    for code, level in ((area.code[:2] + "0000", "province"), (area.code[:4] + "00", "city")):
        if code != area.code and level != area.level and (level == "province" or area.level == "district"):
            region = session.get(Region, code)
            if region is not None:
                out.append(Area(region.code, region.name, region.level))
    return out


def _populations(regions: dict[str, Region], areas: dict[str, Area]):
    """Each area's children: its districts' added up; None if any district under it has none on record (a rate
    needs every district's denominator, and none is invented)."""
    total: dict[str, int] = {}
    unknown: set[str] = set()
    districts = [r for r in regions.values() if r.level == "district"]
    for r in districts:
        for code in {r.code, r.code[:4] + "00", r.code[:2] + "0000"}:
            if r.children is None:
                unknown.add(code)
            total[code] = total.get(code, 0) + (r.children or 0)
    for code, area in areas.items():
        yield code, area, (None if code in unknown or code not in total else total[code])


def _covers(code: str, district: str) -> bool:
    """A sales region covers an area if it is the area's province or city (GB/T 2260 pairs of digits)."""
    return (code.endswith("0000") and district.startswith(code[:2])) or (
        code.endswith("00") and district.startswith(code[:4]))


def _put_cases(row: Row, acc: dict) -> None:
    kids = acc.get("children", 0)
    row.cases = Cell(acc.get("cases", 0), kids)
    fd, fo = acc.get("forward_decided", 0), acc.get("forward_on_time", 0)
    ad, ao = acc.get("acknowledge_decided", 0), acc.get("acknowledge_on_time", 0)
    row.forwarded_in_time = Cell(fo / fd if fd else None, kids)
    row.acknowledged_in_time = Cell(ao / ad if ad else None, kids)
    row.breaches = Cell(acc.get("breaches", 0), kids)
    row.escalations = Cell(acc.get("escalations", 0), kids)


def _suppress(rows: dict[str, Row], children: dict[str, list[str]], categories: list[str]) -> None:
    """Groups: each area's categories beside its total; each area's sub-areas beside it, per category, for all
    incidents and for mandatory cases."""
    for r in rows.values():
        for category in categories:
            r.incidents.setdefault(category, Cell(0, 0))
    cells = [c for r in rows.values() for c in [*r.incidents.values(), r.incidents_total, r.cases]]
    groups = [Group(tuple(r.incidents[k] for k in categories), r.incidents_total) for r in rows.values()]
    for parent, codes in children.items():
        subs = [rows[c] for c in codes]
        top = rows[parent]
        groups += [Group(tuple(r.incidents[k] for r in subs), top.incidents[k]) for k in categories]
        groups += [Group(tuple(r.incidents_total for r in subs), top.incidents_total),
                   Group(tuple(r.cases for r in subs), top.cases)]
    suppress(cells, groups)
    for r in rows.values():  # the clocks of hidden cases are hidden with them
        for cell in (r.forwarded_in_time, r.acknowledged_in_time, r.breaches, r.escalations):
            cell.hidden = r.cases.hidden
