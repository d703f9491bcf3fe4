"""Spike detection over event time: N reports of one kind within a window, or M children in them (12 sick
pupils in one report are an outbreak too), raise one alert per window.

State per (kind, place): ``{"reports": [[event id, epoch s, children], ...], "alerted_at": epoch s | None}``
(entries written before children were counted have two elements and count one child).
Reports older than the window are dropped; a report id already counted is ignored (redelivery);
after an alert, no other alert is raised for that place until a full window has passed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpikeRule:
    threshold: int
    window_s: float
    children_threshold: int | None = None


@dataclass(frozen=True)
class Spike:
    window_start: float
    count: int
    report_ids: tuple[str, ...]
    children: int = 0


def observe(state: dict | None, report_id: str, at: float, now: float, rule: SpikeRule,
            children: int = 1) -> tuple[dict, Spike | None]:
    """Count one report of ``children`` children at ``at`` (clamped to ``now``: a report cannot come from the
    future)."""
    at = min(at, now)
    state = state or {"reports": [], "alerted_at": None}
    horizon = now - rule.window_s
    reports = [r for r in state["reports"] if r[1] > horizon]
    alerted_at = state["alerted_at"]
    if any(r[0] == report_id for r in reports) or at <= horizon:
        return {"reports": reports, "alerted_at": alerted_at}, None
    reports.append([report_id, at, max(1, children)])
    reports.sort(key=lambda r: r[1])
    in_window = [r for r in reports if r[1] > at - rule.window_s]
    spike = None
    sick = sum(r[2] if len(r) > 2 else 1 for r in in_window)
    enough = len(in_window) >= rule.threshold or (rule.children_threshold is not None and sick >= rule.children_threshold)
    if enough and (alerted_at is None or at - alerted_at >= rule.window_s):
        spike = Spike(in_window[0][1], len(in_window), tuple(r[0] for r in in_window), sick)
        alerted_at = at
    return {"reports": reports, "alerted_at": alerted_at}, spike


def expired(state: dict | None, now: float, rule: SpikeRule) -> bool:
    """Nothing left to count and no alert to suppress: the key can be dropped."""
    if not state:
        return True
    latest = max([r[1] for r in state["reports"]] + [state["alerted_at"] or 0.0])
    return latest <= now - rule.window_s
