"""Great-circle distance, the bounding box of a circle on the sphere, GB/T 2260 levels, and the plain
point-in-area test (the linear scan the spatial index in ``atlas`` is checked and benchmarked against).

Circles are in kilometres on the sphere, never in degrees: one degree of longitude is 111 km at the equator
but only 95 km at Shanghai's 31° N and 85 km at Harbin's 45° N, so a box of ``r / 111`` degrees each way would
miss schools east and west of the centre. ``circle_bbox`` is the exact longitude/latitude extent of the
spherical cap; the distance test then decides.
"""

from __future__ import annotations

from math import asin, cos, degrees, pi, radians, sin, sqrt

from contracts.emergency import Area, Point

EARTH_RADIUS_KM = 6371.0088
KM_PER_DEGREE = pi * EARTH_RADIUS_KM / 180  # along a meridian: 111.195 km
DISTRICT_GEOCODES = ("GB/T2260", "GB2260", "GB/T 2260", "district", "admin_code")


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    dlat, dlon = radians(b_lat - a_lat), radians(b_lon - a_lon)
    h = sin(dlat / 2) ** 2 + cos(radians(a_lat)) * cos(radians(b_lat)) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def circle_bbox(lat: float, lon: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) holding every point within ``radius_km`` of the centre.

    Latitude spans r/R radians each way; longitude asin(sin(r/R)/cos(lat)) (the cap's tangent meridians),
    the whole circle of longitudes when the cap reaches a pole, and clamped (conservatively widened to all
    longitudes) when it crosses the antimeridian.
    """
    angle = radius_km / EARTH_RADIUS_KM
    min_lat, max_lat = lat - degrees(angle), lat + degrees(angle)
    if max_lat >= 90 or min_lat <= -90 or angle >= pi / 2:
        return -180.0, max(min_lat, -90.0), 180.0, min(max_lat, 90.0)
    dlon = degrees(asin(min(1.0, sin(angle) / cos(radians(lat)))))
    if lon - dlon < -180 or lon + dlon > 180:
        return -180.0, min_lat, 180.0, max_lat
    return lon - dlon, min_lat, lon + dlon, max_lat


def is_district_geocode(name: str) -> bool:
    return name.strip() in DISTRICT_GEOCODES


def geocode_covers(code: str, district_code: str) -> bool:
    """GB/T 2260 by level: ``xx0000`` a province, ``xxxx00`` a city, anything else exactly one district.

    (Stripping zeros would make Yangpu 310110 cover 310112–310118; a district code is never a prefix.)
    """
    code = code.strip()
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return False
    if code.endswith("0000"):
        return district_code[:2] == code[:2]
    if code.endswith("00"):
        return district_code[:4] == code[:4]
    return district_code == code


def in_polygon(lat: float, lon: float, polygon: list[Point]) -> bool:
    """Ray casting on lat/lon (fine at city scale; CAP polygons are closed: first point == last)."""
    inside = False
    for a, b in zip(polygon, polygon[1:], strict=False):
        if (a.lat > lat) != (b.lat > lat):
            cross = a.lon + (lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
            if lon < cross:
                inside = not inside
    return inside


def in_area(lat: float, lon: float, district_code: str, area: Area) -> bool:
    """Inside any polygon or circle, or in a division named by any of the area's GB/T 2260 geocodes."""
    if any(in_polygon(lat, lon, poly) for poly in area.polygons):
        return True
    if any(distance_km(c.center.lat, c.center.lon, lat, lon) <= c.radius_km for c in area.circles):
        return True
    return any(is_district_geocode(g.name) and geocode_covers(g.value, district_code) for g in area.geocodes)
