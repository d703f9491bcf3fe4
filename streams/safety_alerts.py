"""Registers the item 18/22 agents on the streams app: recalls, campus safety reports, outbreak spikes and
CAP emergency alerts (with missing-child widening). Each lives in its own package; this only wires them."""

from __future__ import annotations

import faust

from streams.emergency.agents import EmergencyHandles, register_emergency
from streams.recalls.agents import register_recalls
from streams.recalls.holdings import HoldingsIndex
from streams.safety.agents import register_safety
from streams.spikes.agents import register_spikes
from dataclasses import dataclass


@dataclass
class SafetyAlerts:
    """The handles ops and tests reach: the timers' bodies, the recall holdings index, the school atlas."""

    holdings_index: HoldingsIndex
    check_drills: object
    emergency: EmergencyHandles
    incident_hooks: list


def register_safety_alerts(app: faust.App, cfg, writer, clock, atlas=None) -> SafetyAlerts:
    conf = cfg.alerting
    holdings = register_recalls(app, cfg, writer, clock, conf)
    check_drills = register_safety(app, cfg, writer, clock, conf)
    emergency = register_emergency(app, cfg, writer, clock, conf, atlas)
    count_school = register_spikes(app, cfg, writer, clock, conf)
    return SafetyAlerts(holdings, check_drills, emergency, [count_school])
