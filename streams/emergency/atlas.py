"""Where every school is, in every streams worker: a CAP area or a missing-child ring may reach any school.

Schools are few (tens of thousands in a province) and every worker needs all of them, so each worker reads
the whole compacted ``directory.schools.v1`` topic with its own group-less consumer (a global table) instead
of a partitioned Faust table; ``ready`` is set once it has caught up with the end offsets seen at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass

from contracts.codec import decode
from contracts.emergency import Area
from contracts.errors import ContractError
from contracts.events import SchoolLocatedEvent
from contracts.topics import SCHOOL_LOCATIONS
from streams.emergency.geo import distance_km, in_area

log = logging.getLogger("childsafe.atlas")


@dataclass(frozen=True, slots=True)
class SchoolPlace:
    school_id: str
    district_code: str
    lat: float
    lon: float


class SchoolAtlas:
    def __init__(self, places: Iterable[SchoolPlace] = ()):
        self.places: dict[str, SchoolPlace] = {p.school_id: p for p in places}

    def put(self, place: SchoolPlace | None, school_id: str) -> None:
        if place is None:
            self.places.pop(school_id, None)
        else:
            self.places[school_id] = place

    def in_areas(self, areas: list[Area]) -> list[str]:
        return sorted(p.school_id for p in self.places.values()
                      if any(in_area(p.lat, p.lon, p.district_code, a) for a in areas))

    def ring(self, lat: float, lon: float, inner_km: float, outer_km: float) -> list[str]:
        """Schools farther than ``inner_km`` (0: the centre itself counts) and at most ``outer_km`` away."""
        found = []
        for p in self.places.values():
            d = distance_km(lat, lon, p.lat, p.lon)
            if (d > inner_km or inner_km == 0) and d <= outer_km:
                found.append(p.school_id)
        return sorted(found)


def place_from(key: bytes | None, value: bytes | None) -> tuple[str, SchoolPlace | None]:
    """A record of the schools topic: a tombstone or ``active: false`` removes the school."""
    if value is None:
        return (key or b"").decode(), None
    event = decode(value, SCHOOL_LOCATIONS)
    assert isinstance(event, SchoolLocatedEvent)
    s = event.data
    return s.school_id, (SchoolPlace(s.school_id, s.district_code, s.lat, s.lon) if s.active else None)


async def keep_following(atlas: SchoolAtlas, bootstrap: str, topic: str, ready: asyncio.Event) -> None:
    """Follow the schools topic for the worker's lifetime; a failure is logged and retried, never fatal."""
    delay = 0.5
    while True:
        try:
            await follow_schools(atlas, bootstrap, topic, ready)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("following %s failed (%s); retrying in %.1fs", topic, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)


async def follow_schools(atlas: SchoolAtlas, bootstrap: str, topic: str, ready: asyncio.Event,
                         partitions: int = SCHOOL_LOCATIONS.partitions) -> None:
    """Read the whole topic from the start, then keep following it; never joins a consumer group."""
    from aiokafka import AIOKafkaConsumer
    from aiokafka.structs import TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]  # the catalogue's count (checked at start)
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        while True:
            if not ready.is_set() and all([await consumer.position(tp) >= ends[tp] for tp in tps]):
                ready.set()
                log.info("school atlas ready: %d schools", len(atlas.places))
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for r in records:
                    try:
                        school_id, place = place_from(r.key, r.value)
                    except ContractError as exc:
                        log.warning("school location %s@%s refused: %s", r.partition, r.offset, exc)
                        continue
                    atlas.put(place, school_id)
    finally:
        await consumer.stop()
