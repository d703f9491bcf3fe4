"""A made-up province for the indicator tests: areas with child populations, schools, and records of every kind
the indicators count (incidents through the recorder's own facts, cases with their clocks, drills, recalls, SMS).

Every name is fictional; guardians' numbers are from the sandbox-only +86 1990000xxxx block the directory uses.
`expected_*` recount from the records in plain Python: the oracle the SQL is checked against.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone

from sqlalchemy.orm import Session

from consumers.cases.models import CaseDeadline, MandatoryReportCase
from consumers.directory.districts import recipient_districts
from consumers.indicators.facts import month_of, record
from consumers.indicators.models import Region
from consumers.store.core import Agency, DutyOfficer, School
from consumers.store.directory import Child, ChildGuardian, Guardian, SchoolClass
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.events import IncidentReportedEvent, RecallPublishedEvent, SafetyReportFiledEvent
from contracts.incident import IncidentReported
from contracts.safety import SafetyReportFiled
from tests.factories import incident
from tests.recall_fixtures import recall

PROVINCE = "140000"
CITIES = {"140100": ("测试甲市", {"140105": 52_000, "140106": 61_000, "140107": 8_000}),
          "140200": ("测试乙市", {"140202": 33_000, "140203": None})}  # 140203: no population on record
MONTH = "2026-10"
CATEGORIES = ("fall", "traffic", "drowning", "bullying", "abuse_harm")
SHANGHAI = timezone(timedelta(hours=8))


@dataclass
class IncidentRecord:
    event_id: str
    school: str
    district: str
    category: str
    occurred_at: datetime
    children: int


@dataclass
class CaseRecord:
    case_id: str
    report_id: str
    district: str
    reported_at: datetime
    forwarded_after: timedelta | None  # None: not forwarded yet
    acks_after: list[timedelta | None]
    breaches: int
    escalations: int


@dataclass
class World:
    incidents: list[IncidentRecord] = field(default_factory=list)
    cases: list[CaseRecord] = field(default_factory=list)
    drills: list[tuple[str, str, str, date]] = field(default_factory=list)  # event id, school, district, held on
    recalls: list[tuple[str, list[str], date]] = field(default_factory=list)
    sms: list[tuple[str, str, str, str | None, float]] = field(default_factory=list)  # alert, recipient, state, status, at
    schools: dict[str, str] = field(default_factory=dict)  # school → district
    guardian_district: dict[str, str] = field(default_factory=dict)
    recipient_district: dict[str, str] = field(default_factory=dict)  # "g:…"/"do:…" → district; absent: unplaced
    events: list = field(default_factory=list)  # the incident, drill and recall events the records came from

    def districts(self) -> list[str]:
        return [d for _, (_, ds) in CITIES.items() for d in ds]


def seed_regions(session: Session) -> None:
    session.add(Region(code=PROVINCE, name="测试省", level="province"))
    for city, (name, districts) in CITIES.items():
        session.add(Region(code=city, name=name, level="city", parent_code=PROVINCE))
        for n, (district, children) in enumerate(districts.items()):
            session.add(Region(code=district, name=f"{name}测试{'一二三'[n]}区", level="district", parent_code=city,
                               children=children, children_year=2025 if children else None,
                               source="测试统计年鉴 (fictional)" if children else None))


def build(session: Session, seed: int = 7, incidents: int = 120, now: datetime | None = None,
          kids: tuple[int, ...] = (1, 1, 1, 2, 3, 6), record_events: bool = True) -> World:
    """Seed areas, schools, children and guardians, then records for October 2026 (and a few outside it).

    The incident, drill and recall events are recorded as the recorder would, or (``record_events=False``) left
    in ``world.events`` for a test to send through the topics."""
    rng = random.Random(seed)
    now = now or datetime(2026, 11, 20, 4, 0, tzinfo=UTC)
    world = World()
    seed_regions(session)
    for district in world.districts():
        session.add(Agency(id=f"ps-{district}", kind="public_security", district_code=district, name=f"测试{district}公安"))
        session.add(Agency(id=f"edu-{district}", kind="education", district_code=district, name=f"测试{district}教育局"))
        for k in range(2):
            school = f"SCH-{district}-{k:04d}"
            world.schools[school] = district
            session.add(School(id=school, name=f"测试学校{district}-{k}", district_code=district))
    session.flush()
    for district in world.districts():
        session.add(DutyOfficer(id=f"do-{district}", agency_id=f"ps-{district}", name="测试值班员",
                                phone=f"+8619900{district[2:]}0", contact_order=0))
    n_guardian = 0
    for school, district in world.schools.items():
        session.add(SchoolClass(id=f"{school}-c1", school_id=school, name="一班"))
        session.flush()
        for k in range(3):
            n_guardian += 1
            gid = f"G{n_guardian:05d}"
            session.add_all([Child(id=f"{school}-k{k}", school_id=school, class_id=f"{school}-c1"),
                             Guardian(id=gid, phone=f"+861990000{n_guardian:04d}")])
            session.flush()
            session.add(ChildGuardian(child_id=f"{school}-k{k}", contact_order=0, guardian_id=gid, school_id=school,
                                      class_id=f"{school}-c1"))
            world.guardian_district[gid] = district
    schools = sorted(world.schools)
    events = []
    for n in range(incidents):
        school = rng.choice(schools)
        district = world.schools[school]
        day = rng.randint(-3, 33)  # a few fall in September or November: not October's
        occurred = datetime(2026, 10, 1, tzinfo=SHANGHAI) + timedelta(days=day, minutes=rng.randint(0, 1439))
        n_kids = rng.choice(kids)
        category = rng.choice(CATEGORIES)
        event_id = f"rep-{seed}-{n:05d}"
        data = incident(school_id=school, district_code=district, category=category,
                        occurred_at=occurred.isoformat(), children=[{"age": 9}] * min(n_kids, 3),
                        children_affected=n_kids, reporter={"role": "school_safety_officer", "unit_id": school})
        events.append(IncidentReportedEvent.new(IncidentReported.model_validate(data), source="/test", id=event_id))
        world.incidents.append(IncidentRecord(event_id, school, district, category, occurred, n_kids))
        if category in ("bullying", "abuse_harm"):
            world.cases.append(_case(session, rng, world.incidents[-1], now))
    for n in range(20):
        school = rng.choice(schools)
        held = date(2026, 10, 1) + timedelta(days=rng.randint(-400, 30))
        kind = rng.choice(["evacuation", "evacuation", "fire"])
        data = SafetyReportFiled.model_validate({
            "school_id": school, "district_code": world.schools[school], "filed_at": now,
            "inspector_unit": "EDU-TEST", "body": {"kind": "drill", "drill_kind": kind, "held_on": held.isoformat(),
                                                   "participants": 300}})
        events.append(SafetyReportFiledEvent.new(data, source="/test", id=f"drill-{seed}-{n}"))
        world.drills.append((f"drill-{seed}-{n}", school, world.schools[school], held, kind))
    for n, regions in enumerate([["140000"], ["140105"], ["140202", "140203"]]):
        published = date(2026, 10, 5 + n)
        number = f"SAMR-TEST-{seed}-{n}"
        events.append(RecallPublishedEvent.new(recall(recall_number=number, published_on=published,
                                                      sales_regions=regions), source="/test", id=f"rc-{seed}-{n}"))
        world.recalls.append((number, regions, published))
    world.events = events
    if record_events:
        record(session, events)
    _sms(session, rng, world)
    return world


def _case(session: Session, rng: random.Random, rec: IncidentRecord, now: datetime) -> CaseRecord:
    case_id = f"case-{rec.event_id}"
    reported = rec.occurred_at.astimezone(UTC) + timedelta(minutes=5)
    forwarded = rng.choice([timedelta(minutes=3), timedelta(minutes=14), timedelta(minutes=40), None])
    acks = [rng.choice([timedelta(minutes=20), timedelta(minutes=90), None]) for _ in range(2)]
    session.add(MandatoryReportCase(
        case_id=case_id, report_id=rec.event_id, school_id=rec.school, district_code=rec.district,
        category=rec.category, severity="serious", risk="high", situations=[4], triggers=["situation_4"],
        children=[], summary="TEST-ONLY", state="open", occurred_at=rec.occurred_at, reported_at=reported,
        opened_at=reported, updated_at=reported))
    session.flush()
    breaches = escalations = 0
    fwd_due = reported + timedelta(minutes=15)
    rows = [("forward", fwd_due, forwarded)]
    base = reported + (forwarded or timedelta(0))
    rows += [("acknowledge", base + timedelta(hours=1), ack) for ack in acks] if forwarded else []
    for duty, due, after in rows:
        start = reported if duty == "forward" else base
        met = start + after if after is not None else None
        late = (met is None and due <= now) or (met is not None and met > due)
        level = rng.randint(1, 2) if late else 0
        breaches += late
        escalations += level
        session.add(CaseDeadline(case_id=case_id, duty=duty, agency_id=f"ps-{rec.district}", due_at=due, met_at=met,
                                 breached_at=due if late else None, escalation_level=level, next_escalation_at=None))
    return CaseRecord(case_id, rec.event_id, rec.district, reported, forwarded,
                      acks if forwarded else [], breaches, escalations)


def _sms(session: Session, rng: random.Random, world: World) -> None:
    """Ledger rows as the dispatcher writes them: the recipient's district looked up in the directory when the row is
    written (`consumers.directory.districts`). The oracle places recipients from what the world made instead: a
    guardian with children in two districts is counted in their first school's (smallest id); a duty officer in
    their agency's; a guardian since removed from the directory in none ("district unknown")."""
    two_schools = sorted(world.guardian_district)[-1]  # the last school's guardian: also a child at the first school
    first = sorted(world.schools)[0]
    session.add(Child(id=f"{first}-k9", school_id=first, class_id=f"{first}-c1"))
    session.flush()
    session.add(ChildGuardian(child_id=f"{first}-k9", contact_order=1, guardian_id=two_schools, school_id=first,
                              class_id=f"{first}-c1"))
    session.flush()
    world.recipient_district = {f"g:{g}": d for g, d in world.guardian_district.items()}
    world.recipient_district[f"g:{two_schools}"] = world.schools[first]
    world.recipient_district.update({f"do:do-{d}": d for d in world.districts()})
    recipients = [*sorted(world.guardian_district), *(f"do-{d}" for d in world.districts()), "GONE-1", "GONE-2"]
    recipients = [f"do:{r}" if r.startswith("do-") else f"g:{r}" for r in recipients]
    placed = recipient_districts(session.connection(), recipients)
    october = datetime(2026, 10, 10, 2, 0, tzinfo=UTC).timestamp()
    for n, rid in enumerate(recipients):
        for alert in (f"recall:{world.recalls[0][0]}:0:p0:e{n}", f"inc:{n}"):
            state = rng.choice(["accepted", "accepted", "accepted", "skipped", "failed"])
            status = rng.choice(["delivered", "delivered", "undelivered", None]) if state == "accepted" else None
            at = october + rng.choice([0, 0, 0, 40 * 86400])  # some in November
            world.sms.append((alert, rid, state, status, at))
            session.add(SmsLedgerEntry(dedup_key=f"{alert}|{rid}", alert_id=alert, recipient_id=rid,
                                       marker=f"m{n}{alert[:3]}{rng.random():.8f}"[:32], phone="+8619900000000",
                                       state=state, provider_status=status, attempts=1, job_json="{}",
                                       created_at=at, updated_at=at, district_code=placed.get(rid)))


# --- the oracle ------------------------------------------------------------------------------------------------

def covers(area: str, district: str) -> bool:
    prefix = area[:2] if area.endswith("0000") else area[:4] if area.endswith("00") else area
    return district.startswith(prefix)


def expected_incidents(world: World, area: str, month: str = MONTH) -> tuple[Counter, Counter]:
    """(incidents by category, children by category) in `area` for `month`."""
    counts, kids = Counter(), Counter()
    for rec in world.incidents:
        if covers(area, rec.district) and month_of(rec.occurred_at) == month:
            counts[rec.category] += 1
            kids[rec.category] += rec.children
    return counts, kids


def expected_cases(world: World, area: str, month: str = MONTH) -> list[CaseRecord]:
    return [c for c in world.cases if covers(area, c.district) and month_of(c.reported_at) == month]


def expected_sms(world: World, area: str | None, month: str = MONTH) -> tuple[int, int]:
    """(meant to reach someone, delivered) of the month's SMS to recipients in `area` (None: placed nowhere)."""
    def inside(rid: str) -> bool:
        district = world.recipient_district.get(rid)
        return district is None if area is None else district is not None and covers(area, district)
    meant = [s for s in world.sms if inside(s[1])
             and month_of(datetime.fromtimestamp(s[4], UTC)) == month and s[2] not in ("skipped", "cancelled")]
    return len(meant), sum(1 for s in meant if s[3] == "delivered")


def expected_drills_done(world: World, area: str, month: str = MONTH) -> int:
    return sum(1 for d in world.drills if covers(area, d[2]) and month_of(d[3]) == month)


def expected_recalls(world: World, area: str, month: str = MONTH) -> int:
    """Recalls published in `month` sold anywhere in `area`, or in a province or city that contains it."""
    return sum(1 for _, regions, published in world.recalls if month_of(published) == month
               and any(covers(area, r) or covers(r, area) for r in regions))
