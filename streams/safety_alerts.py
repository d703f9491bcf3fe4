"""Registers the item 18/22 agents on the streams app: recalls, campus safety reports, outbreak spikes and
CAP emergency alerts (with missing-child widening). Each lives in its own package; this only wires them."""

from __future__ import annotations

import faust

from streams.alerting_config import AlertingConfig
from streams.emergency.agents import register_emergency
from streams.recalls.agents import register_recalls
from streams.safety.agents import register_safety
from streams.spikes.agents import register_spikes


def register_safety_alerts(app: faust.App, cfg, writer, clock, atlas=None) -> dict:
    conf = cfg.alerting or AlertingConfig()
    hooks = {
        "holdings_index": register_recalls(app, cfg, writer, clock, conf),
        "check_drills": register_safety(app, cfg, writer, clock, conf),
    }
    emergency = register_emergency(app, cfg, writer, clock, conf, atlas)
    hooks.update(widen_missing_children=emergency["widen"], atlas=emergency["atlas"],
                 atlas_ready=emergency["atlas_ready"])
    register_spikes(app, cfg, writer, clock, conf)
    app.childsafe.update(hooks)  # type: ignore[attr-defined]  # tests and ops reach the timers' bodies here
    return hooks
