"""Events → indicator facts: what of an incident, a drill or a recall the indicators count, and nothing else.

Idempotent by event id (and recall number × area): a replayed message records nothing new. A recall's update
or withdrawal is not a new recall; only ``published`` counts.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from consumers.indicators.models import DrillFact, IncidentFact, RecallFact
from contracts.events import IncidentReportedEvent, RecallPublishedEvent, SafetyReportFiledEvent
from contracts.recall import RecallAction
from contracts.safety import Drill

ZONE = ZoneInfo("Asia/Shanghai")  # months are counted as the province lives them


def month_of(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        moment = moment.astimezone(ZONE).date()
    return f"{moment.year:04d}-{moment.month:02d}"


def facts_of(event) -> list:
    """The fact rows one event gives (none for an inspection, a food-safety check or a recall update)."""
    if isinstance(event, IncidentReportedEvent):
        inc = event.data
        return [IncidentFact(event_id=event.id, school_id=inc.school_id, district_code=inc.district_code,
                             category=inc.category.value, month=month_of(inc.occurred_at),
                             occurred_at=inc.occurred_at, children=inc.children_count)]
    if isinstance(event, SafetyReportFiledEvent) and isinstance(event.data.body, Drill):
        report, drill = event.data, event.data.body
        return [DrillFact(event_id=event.id, school_id=report.school_id, district_code=report.district_code,
                          drill_kind=drill.drill_kind.value, held_on=drill.held_on, month=month_of(drill.held_on))]
    if isinstance(event, RecallPublishedEvent) and event.data.action is RecallAction.PUBLISHED:
        notice = event.data
        return [RecallFact(recall_number=notice.recall_number, region_code=code, month=month_of(notice.published_on),
                           published_on=notice.published_on) for code in sorted(set(notice.sales_regions))]
    return []


def record(session: Session, events) -> int:
    """Add the facts of `events` not recorded yet; returns how many rows were added."""
    rows = {(type(r), _key(r)): r for e in events for r in facts_of(e)}
    added = 0
    for model in (IncidentFact, DrillFact, RecallFact):
        mine = {k: r for (m, k), r in rows.items() if m is model}
        if not mine:
            continue
        pk = model.__mapper__.primary_key
        known = {tuple(row) for row in session.execute(select(*pk).where(tuple_(*pk).in_(list(mine))))}
        for key, row in mine.items():
            if key not in known:
                session.add(row)
                added += 1
    return added


def _key(row) -> tuple:
    return tuple(getattr(row, c.key) for c in row.__mapper__.primary_key)
