"""The STRtree geo-targeting gives the linear scan's answer (polygons, circles in km on the sphere, geocodes,
rings), finds schools east/west of a circle's centre at high latitude, and the benchmark runs at smoke size."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from contracts.emergency import Area
from ops.bench import cap_geo
from streams.emergency.atlas import SchoolAtlas, SchoolPlace
from streams.emergency.geo import KM_PER_DEGREE, circle_bbox, distance_km


def test_a_circle_is_kilometres_on_the_sphere_not_degrees():
    # at 45° N one degree of longitude is ~79 km: a school 95 km due east is inside a 100 km circle, although
    # it is 1.2° of longitude away (a box of 100/111 = 0.9° would miss it)
    lat, lon = 45.0, 126.0
    east = lon + 95 / (KM_PER_DEGREE * 0.7071)
    atlas = SchoolAtlas([SchoolPlace("EAST", "230102", lat, east), SchoolPlace("FAR", "230102", lat, east + 0.2)])
    assert 94 < distance_km(lat, lon, lat, east) < 96
    area = Area.model_validate({"area_desc": "x", "circles": [{"center": {"lat": lat, "lon": lon}, "radius_km": 100}]})
    assert atlas.in_areas([area]) == atlas.in_areas_linear([area]) == ["EAST"]
    assert atlas.ring(lat, lon, 0, 100) == ["EAST"] and atlas.ring(lat, lon, 95.5, 200) == ["FAR"]


@given(st.floats(-89.9, 89.9), st.floats(-179.9, 179.9), st.floats(0, 3000), st.floats(0, 1), st.floats(0, 6.29))
@settings(max_examples=300, deadline=None)
def test_every_point_of_a_circle_lies_in_its_bounding_box(lat, lon, radius, fraction, bearing):
    import math

    d = radius * fraction / 6371.0088  # a point at that distance and bearing (spherical destination formula)
    la, lo, b = math.radians(lat), math.radians(lon), bearing
    lat2 = math.asin(math.sin(la) * math.cos(d) + math.cos(la) * math.sin(d) * math.cos(b))
    lon2 = lo + math.atan2(math.sin(b) * math.sin(d) * math.cos(la), math.cos(d) - math.sin(la) * math.sin(lat2))
    p_lat, p_lon = math.degrees(lat2), (math.degrees(lon2) + 540) % 360 - 180
    min_lon, min_lat, max_lon, max_lat = circle_bbox(lat, lon, radius)
    assert min_lat - 1e-9 <= p_lat <= max_lat + 1e-9 and min_lon - 1e-9 <= p_lon <= max_lon + 1e-9


@given(st.integers(0, 10_000), st.integers(0, 6), st.integers(0, 6), st.sampled_from([5.0, 40.0, 300.0]),
       st.lists(st.sampled_from(["140000", "140100", "140105", "140106", "141100", "310110"]), max_size=3))
@settings(max_examples=60, deadline=None)
def test_the_index_gives_the_linear_scans_answer(seed, polygons, circles, max_km, codes):
    rng = random.Random(seed)
    atlas = SchoolAtlas(cap_geo.schools(400, rng))
    [area] = cap_geo.cap_areas(polygons, circles, rng, max_km=max_km)
    area = Area.model_validate({**area.model_dump(), "geocodes": [{"name": "GB/T2260", "value": c} for c in codes]})
    assert atlas.in_areas([area]) == atlas.in_areas_linear([area])
    lat, lon = rng.uniform(34.5, 40.7), rng.uniform(110.2, 114.6)
    inner = rng.choice([0.0, 50.0])
    linear = sorted(p.school_id for p in atlas.places.values()
                    if (inner == 0 or distance_km(lat, lon, p.lat, p.lon) > inner)
                    and distance_km(lat, lon, p.lat, p.lon) <= inner + max_km)
    assert atlas.ring(lat, lon, inner, inner + max_km) == linear


def test_benchmark_smoke_size():
    r = cap_geo.main(["--schools", "300", "--polygons", "10", "--circles", "10", "--rounds", "1",
                      "--many-circles", "100"])
    assert r["matched"] >= 0 and r["index_ms"] > 0 and r["linear_ms"] > 0 and r["many_matched"] >= 0


def test_an_empty_atlas_and_a_removed_school():
    atlas = SchoolAtlas()
    area = Area.model_validate({"area_desc": "x", "circles": [{"center": {"lat": 31.0, "lon": 121.0}, "radius_km": 5}]})
    assert atlas.in_areas([area]) == [] and atlas.ring(31.0, 121.0, 0, 100) == []
    atlas.put(SchoolPlace("S1", "310115", 31.0, 121.0), "S1")
    assert atlas.in_areas([area]) == ["S1"]
    atlas.put(None, "S1")
    assert atlas.in_areas([area]) == []
