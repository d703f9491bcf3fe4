"""Spike detection over event time: N reports of one kind within a window raise one alert per window.

State per (kind, place): ``{"reports": [[event id, epoch s], ...], "alerted_at": epoch s | None}``.
Reports older than the window are dropped; a report id already counted is ignored (redelivery);
after an alert, no other alert is raised for that place until a full window has passed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpikeRule:
    threshold: int
    window_s: float


@dataclass(frozen=True)
class Spike:
    window_start: float
    count: int
    report_ids: tuple[str, ...]


def observe(state: dict | None, report_id: str, at: float, now: float, rule: SpikeRule) -> tuple[dict, Spike | None]:
    """Count one report at ``at`` (clamped to ``now``: a report cannot come from the future)."""
    at = min(at, now)
    state = state or {"reports": [], "alerted_at": None}
    horizon = now - rule.window_s
    reports = [r for r in state["reports"] if r[1] > horizon]
    alerted_at = state["alerted_at"]
    if any(r[0] == report_id for r in reports) or at <= horizon:
        return {"reports": reports, "alerted_at": alerted_at}, None
    reports.append([report_id, at])
    reports.sort(key=lambda r: r[1])
    in_window = [r for r in reports if r[1] > at - rule.window_s]
    spike = None
    if len(in_window) >= rule.threshold and (alerted_at is None or at - alerted_at >= rule.window_s):
        spike = Spike(in_window[0][1], len(in_window), tuple(r[0] for r in in_window))
        alerted_at = at
    return {"reports": reports, "alerted_at": alerted_at}, spike


def expired(state: dict | None, now: float, rule: SpikeRule) -> bool:
    """Nothing left to count and no alert to suppress: the key can be dropped."""
    if not state:
        return True
    latest = max([r[1] for r in state["reports"]] + [state["alerted_at"] or 0.0])
    return latest <= now - rule.window_s
