"""Settings of the item 18/22 agents (recalls, safety reports, spikes, CAP emergencies), from ops.settings."""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_WIDENING = ((0.0, 100.0), (3600.0, 200.0), (7200.0, 300.0), (10800.0, 500.0))
"""(seconds after the alert was sent, radius km): 100 km at once, 200 by 2 h, 300 by 3 h, 500 after (DOMAIN.md)."""


@dataclass(frozen=True)
class AlertingConfig:
    holders_per_alert: int = 1000
    hazard_fix_days: dict[str, int] = field(default_factory=lambda: {"fire_safety": 3, "food_safety": 1,
                                                                    "school_bus": 1, "water_hazards": 3})
    hazard_fix_days_default: int = 7
    drill_period_days: int = 180
    drill_check_interval_s: float = 3600.0
    spike_kinds: tuple[str, ...] = ("food_poisoning",)
    spike_window_s: float = 24 * 3600.0
    spike_school_threshold: int = 3
    spike_district_threshold: int = 5
    spike_school_children: int | None = 10
    spike_district_children: int | None = 20
    widening: tuple[tuple[float, float], ...] = DEFAULT_WIDENING
    widening_tick_s: float = 30.0
    cap_max_bytes: int = 1024 * 1024
    cap_test_schools: tuple[str, ...] = ()
    """Schools whose contacts (only) receive CAP status Test messages; none: Test messages reach nobody."""
    cap_delegates: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """CAP sender → the other senders allowed to update or cancel its threads."""
