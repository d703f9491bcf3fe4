"""Great-circle distance and point-in-area tests for CAP polygons, circles and geocodes."""

from __future__ import annotations

from math import asin, cos, radians, sin, sqrt

from contracts.emergency import Area, Point

EARTH_RADIUS_KM = 6371.0088
DISTRICT_GEOCODES = ("GB/T2260", "GB2260", "district", "admin_code")


def distance_km(a_lat: float, a_lon: float, b_lat: float, b_lon: float) -> float:
    dlat, dlon = radians(b_lat - a_lat), radians(b_lon - a_lon)
    h = sin(dlat / 2) ** 2 + cos(radians(a_lat)) * cos(radians(b_lat)) * sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * asin(min(1.0, sqrt(h)))


def in_polygon(lat: float, lon: float, polygon: list[Point]) -> bool:
    """Ray casting on lat/lon (fine at city scale; CAP polygons are closed: first point == last)."""
    inside = False
    for a, b in zip(polygon, polygon[1:]):
        if (a.lat > lat) != (b.lat > lat):
            cross = a.lon + (lat - a.lat) * (b.lon - a.lon) / (b.lat - a.lat)
            if lon < cross:
                inside = not inside
    return inside


def in_area(lat: float, lon: float, district_code: str, area: Area) -> bool:
    """Inside any polygon or circle, or in a district named by a GB/T 2260 geocode (a prefix names a city)."""
    if any(in_polygon(lat, lon, poly) for poly in area.polygons):
        return True
    if any(distance_km(c.center.lat, c.center.lon, lat, lon) <= c.radius_km for c in area.circles):
        return True
    return any(name in DISTRICT_GEOCODES and district_code.startswith(value.rstrip("0") or value)
               for name, value in area.geocodes.items())
