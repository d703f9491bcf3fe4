"""Benchmark: one CAP alert's areas → schools, the STRtree index (streams/emergency/atlas.py) against the
linear scan of every school and every shape, in the same run, on the same data; and the 3,600-circle message.

    .venv/bin/python -m ops.bench.cap_geo [--schools 50000] [--polygons 100] [--circles 100] [--rounds 5]
                                          [--many-circles 3600]

Data are generated (fixed seed): schools spread over a province-sized box around Shanxi (34.5–40.7° N,
110.2–114.6° E) with GB/T 2260-like district codes; polygons are 5–9-gon rings 2–15 km across; circles
1–20 km. Both paths must give the same schools (checked every round), so the index cannot win by being wrong.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time

from contracts.emergency import Area
from streams.emergency.atlas import SchoolAtlas, SchoolPlace
from streams.emergency.geo import KM_PER_DEGREE

BOX = (34.5, 40.7, 110.2, 114.6)  # lat min/max, lon min/max


def schools(n: int, rng: random.Random) -> list[SchoolPlace]:
    lat0, lat1, lon0, lon1 = BOX
    return [SchoolPlace(f"SCH-{i:06d}", f"14{rng.randint(1, 11):02d}{rng.randint(1, 30):02d}",
                        rng.uniform(lat0, lat1), rng.uniform(lon0, lon1)) for i in range(n)]


def _polygon(rng: random.Random) -> list[dict]:
    lat0, lat1, lon0, lon1 = BOX
    lat, lon, r_km, k = rng.uniform(lat0, lat1), rng.uniform(lon0, lon1), rng.uniform(1, 7.5), rng.randint(5, 9)
    ring = []
    for j in range(k):
        angle = 2 * math.pi * j / k
        d = r_km * rng.uniform(0.6, 1.0)
        ring.append({"lat": lat + d * math.sin(angle) / KM_PER_DEGREE,
                     "lon": lon + d * math.cos(angle) / (KM_PER_DEGREE * math.cos(math.radians(lat)))})
    return ring + [ring[0]]


def _circle(rng: random.Random, max_km: float = 20) -> dict:
    lat0, lat1, lon0, lon1 = BOX
    return {"center": {"lat": rng.uniform(lat0, lat1), "lon": rng.uniform(lon0, lon1)},
            "radius_km": rng.uniform(1, max_km)}


def cap_areas(polygons: int, circles: int, rng: random.Random, max_km: float = 20) -> list[Area]:
    return [Area.model_validate({"area_desc": "bench", "polygons": [_polygon(rng) for _ in range(polygons)],
                                 "circles": [_circle(rng, max_km) for _ in range(circles)]})]


def _time(fn, rounds: int) -> tuple[list[float], object]:
    times, result = [], None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def run(n_schools: int, polygons: int, circles: int, rounds: int, many_circles: int, seed: int = 7) -> dict:
    rng = random.Random(seed)
    atlas = SchoolAtlas(schools(n_schools, rng))
    started = time.perf_counter()
    atlas.index()
    build_ms = (time.perf_counter() - started) * 1000
    areas = cap_areas(polygons, circles, rng)
    indexed, found = _time(lambda: atlas.in_areas(areas), rounds)
    linear, expected = _time(lambda: atlas.in_areas_linear(areas), 1)  # seconds a round at full size
    if found != expected:
        raise AssertionError(f"index and linear scan disagree: {len(found)} vs {len(expected)} schools")
    many = cap_areas(0, many_circles, rng, max_km=5)
    many_ms, many_found = _time(lambda: atlas.in_areas(many), rounds)
    return {"schools": n_schools, "polygons": polygons, "circles": circles, "matched": len(found),
            "build_ms": build_ms, "index_ms": statistics.median(indexed), "index_max_ms": max(indexed),
            "linear_ms": statistics.median(linear), "many_circles": many_circles,
            "many_ms": statistics.median(many_ms), "many_matched": len(many_found)}


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--schools", type=int, default=50_000)
    p.add_argument("--polygons", type=int, default=100)
    p.add_argument("--circles", type=int, default=100)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--many-circles", type=int, default=3600)
    a = p.parse_args(argv)
    r = run(a.schools, a.polygons, a.circles, a.rounds, a.many_circles)
    print(f"{r['schools']:,} schools; one CAP alert of {r['polygons']} polygons + {r['circles']} circles "
          f"→ {r['matched']:,} schools")
    print(f"  STRtree index   median {r['index_ms']:9.1f} ms  max {r['index_max_ms']:.1f} ms"
          f"  (index build {r['build_ms']:.0f} ms, once per change of the schools topic)")
    print(f"  linear scan     median {r['linear_ms']:9.1f} ms  ({r['linear_ms'] / r['index_ms']:.0f}× slower)")
    print(f"  {r['many_circles']:,} circles (≤5 km) → {r['many_matched']:,} schools: median {r['many_ms']:.1f} ms")
    return r


if __name__ == "__main__":
    main()
