"""Where every school is, in every streams worker: a CAP area or a missing-child ring may reach any school.

Schools are few (tens of thousands in a province) and every worker needs all of them, so each worker reads
the whole compacted ``directory.schools.v1`` topic with its own group-less consumer (a global table) instead
of a partitioned Faust table; ``ready`` is set once it has caught up with the end offsets seen at start.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import shapely

from contracts.codec import decode
from contracts.emergency import Area
from contracts.errors import ContractError
from contracts.events import SchoolLocatedEvent
from contracts.topics import SCHOOL_LOCATIONS
from streams.emergency.geo import EARTH_RADIUS_KM, circle_bbox, geocode_covers, in_area, is_district_geocode

log = logging.getLogger("childsafe.atlas")


@dataclass(frozen=True, slots=True)
class SchoolPlace:
    school_id: str
    district_code: str
    lat: float
    lon: float


class _Index:
    """An STRtree over the schools' (lon, lat) points, with their ids, coordinates and districts as arrays."""

    def __init__(self, places: list[SchoolPlace]):
        self.ids = np.array([p.school_id for p in places], dtype=object)
        self.lat = np.array([p.lat for p in places], dtype=float)
        self.lon = np.array([p.lon for p in places], dtype=float)
        self.tree = shapely.STRtree(shapely.points(self.lon, self.lat))
        self.by_district: dict[str, list[int]] = defaultdict(list)
        for i, p in enumerate(places):
            self.by_district[p.district_code].append(i)

    def within(self, centres: list[tuple[float, float, float, float]]) -> np.ndarray:
        """Indices of the schools within any of the (lat, lon, inner_km, outer_km) rings: the STRtree finds the
        candidates in each ring's bounding box, the great-circle distance decides (vectorised)."""
        if not centres or not len(self.ids):
            return np.empty(0, dtype=int)
        boxes = shapely.box(*np.array([circle_bbox(lat, lon, outer) for lat, lon, _, outer in centres]).T)
        which, hits = self.tree.query(boxes)
        c = np.array(centres, dtype=float)[which]
        lat1, lon1, lat2, lon2 = map(np.radians, (c[:, 0], c[:, 1], self.lat[hits], self.lon[hits]))
        h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
        d = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        keep = (d <= c[:, 3]) & ((d > c[:, 2]) | (c[:, 2] == 0))
        return hits[keep]


class SchoolAtlas:
    """Where every school is, indexed: a CAP message of thousands of circles against a province's schools
    is a handful of bulk STRtree queries (docs/benchmarks.md), not a scan of every school per shape."""

    def __init__(self, places: Iterable[SchoolPlace] = ()):
        self.places: dict[str, SchoolPlace] = {p.school_id: p for p in places}
        self._index: _Index | None = None

    def put(self, place: SchoolPlace | None, school_id: str) -> None:
        if place is None:
            self.places.pop(school_id, None)
        else:
            self.places[school_id] = place
        self._index = None  # rebuilt on the next look-up (schools change rarely, look-ups are bursts)

    def index(self) -> _Index:
        if self._index is None:
            self._index = _Index(list(self.places.values()))
        return self._index

    def in_areas(self, areas: list[Area]) -> list[str]:
        """Schools inside any polygon or circle of any area, or in a division any GB/T 2260 geocode names."""
        ix = self.index()
        if not len(ix.ids):
            return []
        found: set[int] = set()
        rings = [poly for a in areas for poly in a.polygons]
        if rings:  # built in one vectorised call; a self-intersecting ring is repaired, not refused
            coords = np.array([(p.lon, p.lat) for ring in rings for p in ring], dtype=float)
            which = np.repeat(np.arange(len(rings)), [len(ring) for ring in rings])
            polygons = shapely.make_valid(shapely.polygons(shapely.linearrings(coords, indices=which)))
            found.update(ix.tree.query(polygons, predicate="intersects")[1].tolist())
        circles = [(c.center.lat, c.center.lon, 0.0, c.radius_km) for a in areas for c in a.circles]
        found.update(ix.within(circles).tolist())
        for code in {g.value for a in areas for g in a.geocodes if is_district_geocode(g.name)}:
            for district, members in ix.by_district.items():
                if geocode_covers(code, district):
                    found.update(members)
        return sorted(ix.ids[sorted(found)].tolist()) if found else []

    def in_areas_linear(self, areas: list[Area]) -> list[str]:
        """The same answer by testing every school against every shape: the reference and the benchmark's
        baseline."""
        return sorted(p.school_id for p in self.places.values()
                      if any(in_area(p.lat, p.lon, p.district_code, a) for a in areas))

    def ring(self, lat: float, lon: float, inner_km: float, outer_km: float) -> list[str]:
        """Schools farther than ``inner_km`` (0: the centre itself counts) and at most ``outer_km`` away."""
        ix = self.index()
        return sorted(ix.ids[np.unique(ix.within([(lat, lon, inner_km, outer_km)]))].tolist())


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
