"""Missing-child rings: which widening steps are due, and which schools each step adds.

Step k covers the schools farther than step k-1's radius and within its own, so every widening reaches
only schools not told before (a school told once is never told again for the same child).
"""

from __future__ import annotations

from datetime import datetime

from streams.emergency.atlas import SchoolAtlas


def due_steps(steps: tuple[tuple[float, float], ...], sent: datetime, now: datetime, done: int) -> list[int]:
    """Indices of the steps past ``done`` whose start time has come (``done`` = steps already issued)."""
    elapsed = (now - sent).total_seconds()
    return [k for k in range(done, len(steps)) if elapsed >= steps[k][0]]


def ring_schools(atlas: SchoolAtlas, steps: tuple[tuple[float, float], ...], k: int, lat: float, lon: float,
                 told: set[str]) -> list[str]:
    inner = steps[k - 1][1] if k > 0 else 0.0
    return [s for s in atlas.ring(lat, lon, inner, steps[k][1]) if s not in told]
