"""The streams worker's wiring: the Faust app with every agent registered the same way (triage, recalls, campus
safety, outbreak spikes, CAP emergencies) and the HTTP intake. Each agent lives in its own module."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import faust

from contracts.clock import Clock
from streams.config import StreamsConfig, faust_app
from streams.dedup import SeenReports, register_dedup
from streams.emergency.agents import EmergencyHandles, register_emergency
from streams.emergency.atlas import SchoolAtlas
from streams.intake import IntakeDoor, register_intake
from streams.intake_tokens import IntakeTokenBook
from streams.ports import IdempotencyLedger, StreamsWriter
from streams.recalls.agents import register_recalls
from streams.recalls.holdings import HoldingsIndex
from streams.safety.agents import register_safety
from streams.spikes.agents import register_spikes
from streams.triage_agent import IncidentHook, TriageStats, register_triage


@dataclass
class StreamsRuntime:
    """What `create_app` built: the Faust app and the handles ops and tests reach (the timers' bodies, the intake)."""

    app: faust.App
    config: StreamsConfig
    clock: Clock
    writer: StreamsWriter
    stats: TriageStats
    seen: SeenReports
    door: IntakeDoor
    holdings_index: HoldingsIndex
    check_drills: Callable[[], Awaitable[int]]
    emergency: EmergencyHandles
    incident_hooks: list[IncidentHook]


def create_app(cfg: StreamsConfig, *, clock: Clock, writer: StreamsWriter, ledger: IdempotencyLedger,
               atlas: SchoolAtlas | None = None) -> StreamsRuntime:
    """Build the app on its ports: the clock, the writer (``async write(outputs)``: Kafka, or a fake in tests) and
    the idempotency ledger (streams/idempotency.py). ops/bootstrap.py picks the real ones. Without ``atlas`` the
    school atlas follows the school-locations topic."""
    app = faust_app(cfg)
    conf = cfg.alerting
    incident_hooks: list[IncidentHook] = [register_spikes(app, cfg, writer, clock, conf)]  # counted in triage's pass
    seen = register_dedup(app, clock, cfg.dedup_retention_s)
    stats = register_triage(app, cfg, writer, clock, seen, incident_hooks)
    holdings_index = register_recalls(app, cfg, writer, clock, conf)
    check_drills = register_safety(app, cfg, writer, clock, conf)
    emergency = register_emergency(app, cfg, writer, clock, conf, atlas)

    tokens = IntakeTokenBook(Path(cfg.intake_tokens_file)) if cfg.intake_tokens_file else None
    door = IntakeDoor(writer, ledger, tokens, cfg.max_body_bytes, clock=clock,
                      insecure_local=cfg.intake_insecure_local, alerting=cfg.alerting, keyring=cfg.keyring)
    register_intake(app, door)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_writer(app, **kwargs) -> None:
        """After the consumer stopped: flush and close the writer (pending batches were awaited or unacked)."""
        for port in (ledger, writer):
            close = getattr(port, "close", None)
            if close is not None:
                await close()

    return StreamsRuntime(app=app, config=cfg, clock=clock, writer=writer, stats=stats, seen=seen, door=door,
                          holdings_index=holdings_index, check_drills=check_drills, emergency=emergency,
                          incident_hooks=incident_hooks)
