"""The Faust app: the triage agent on the incident topic, its dedup table, and the HTTP intake."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import faust

from contracts.clock import Clock
from contracts.dlq import DeadLetterLimit, DeadLetterLimitExceeded, DeadLetterWindow, reason_class
from contracts.codec import decode
from contracts.errors import ContractError, FieldError
from contracts.events import IncidentReportedEvent
from contracts.topics import DEADLETTER, INCIDENTS
from streams.alerting_config import AlertingConfig
from streams.faust_plumbing import BatchOnlyMonitor, RawBytesSchema
from streams.ports import IdempotencyLedger, StreamsWriter
from streams.intake import IntakeDoor, register_intake
from streams.intake_tokens import IntakeTokenBook
from streams.safety_alerts import SafetyAlerts, register_safety_alerts
from streams.deadletter import dead_letter, refuse_oversized, stop_worker
from streams.metrics import BatchTally
from streams.output import Output
from streams.triage import route
from streams.writer import write_durably

log = logging.getLogger("childsafe.streams")


@dataclass(frozen=True)
class StreamsConfig:
    """What the streams worker needs, built from ops.settings by the composition root."""

    bootstrap: str
    namespace: str
    data_dir: str = ".run/streams"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    max_body_bytes: int = 256 * 1024
    intake_tokens_file: str | None = None  # hashed intake tokens (streams/intake_tokens.py); None = nobody gets in
    intake_insecure_local: bool = False  # no tokens: only with a loopback web_host (checked by ops.bootstrap)
    batch: int = 500
    batch_within_s: float = 0.05
    max_in_flight_batches: int = 3
    deadletter_limit: DeadLetterLimit = DeadLetterLimit()  # every agent of this worker keeps its own window
    dedup_retention_s: float = 14 * 24 * 3600
    session_timeout_s: float = 6.0
    heartbeat_s: float = 1.0
    alerting: AlertingConfig = field(default_factory=AlertingConfig)  # the item 18/22 agents
    metrics: bool = True  # off only to measure what the metrics cost (ops/bench)
    keyring: object = None  # contracts.sealed.Keyring: the intake seals identity with it (None: unsealed, unit tests)


@dataclass
class TriageStats:
    routed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


IncidentHook = Callable[[IncidentReportedEvent, int, datetime], list[Output]]


@dataclass
class StreamsRuntime:
    """What `create_app` built: the Faust app and the handles ops and tests reach (the timers' bodies, the intake)."""

    app: faust.App
    config: StreamsConfig
    clock: Clock
    writer: StreamsWriter
    stats: TriageStats
    door: IntakeDoor
    safety: SafetyAlerts
    incident_hooks: list[IncidentHook]


def create_app(cfg: StreamsConfig, *, clock: Clock, writer: StreamsWriter, ledger: IdempotencyLedger) -> StreamsRuntime:
    """Build the app on its ports: the clock, the writer (``async write(outputs)``: Kafka, or a fake in tests) and
    the idempotency ledger (streams/idempotency.py). ops/bootstrap.py picks the real ones."""
    app = faust.App(
        f"{cfg.namespace}-streams",
        broker=f"kafka://{cfg.bootstrap}",
        store="memory://",
        datadir=cfg.data_dir,
        autodiscover=False,
        web_enabled=True,
        web_host=cfg.web_host,
        web_bind=cfg.web_host,
        web_port=cfg.web_port,
        topic_replication_factor=1,
        topic_partitions=INCIDENTS.partitions,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=cfg.session_timeout_s,
        broker_heartbeat_interval=cfg.heartbeat_s,
        broker_rebalance_timeout=max(10.0, cfg.session_timeout_s * 2),
        broker_commit_interval=1.0,
        producer_acks=-1,
        table_standby_replicas=0,
        stream_recovery_delay=0.0,
        web_cors_options=None,
        # Only our views on the web port: Faust's table, router, graph, stats and index views would serve
        # table contents (recall holdings, emergency threads) to anyone. Metrics have their own port.
        web_tables_enabled=False, web_router_enabled=False, web_graph_enabled=False, web_stats_enabled=False,
        web_metrics_enabled=False,
        monitor=BatchOnlyMonitor(),
    )
    # With stats off Faust mounts its "production index" at / instead; we serve nothing at / at all.
    app.web.blueprints._enabled[:] = [(prefix, bp) for prefix, bp in app.web.blueprints._enabled
                                      if "production_index" not in str(bp)]
    stats = TriageStats()
    limit = DeadLetterWindow(cfg.deadletter_limit, "streams.triage")
    # incident_hooks: more work on each new report, done in triage's one pass (e.g. outbreak counting)
    incident_hooks: list[IncidentHook] = []

    incidents = app.topic(INCIDENTS.name(cfg.namespace), schema=RawBytesSchema(key_serializer="raw",
                                                                                value_serializer="raw"),
                          partitions=INCIDENTS.partitions)
    # Event ids already routed (per partition: a re-sent report has the same key, so the same partition).
    # Value: [source partition, routed at (epoch s)], plain JSON so recovery needs no model class.
    seen = app.Table("triage-seen", default=None, partitions=INCIDENTS.partitions)

    def remember(routed: dict[str, tuple[int, float]]) -> list[Output]:
        """Mark event ids as routed. The changelog records are written with the batch's outputs, so they
        are durable before the batch is acked (take() has no current event for Faust's own table writes)."""
        changelog = seen.changelog_topic.get_topic_name()
        records = []
        for event_id, (partition, at) in routed.items():
            seen.data[event_id] = [partition, at]
            records.append(Output(changelog, json.dumps(event_id).encode(), json.dumps([partition, at]).encode(),
                                  partition=partition))
        return records

    def triage_batch(events: list[faust.types.EventT]) -> tuple[list[Output], dict[str, tuple[int, float]], BatchTally]:
        now = clock.now()
        outputs: list[Output] = []
        routed: dict[str, tuple[int, float]] = {}
        tally = BatchTally(time.perf_counter())
        for event in events:
            msg = event.message
            try:
                refuse_oversized(event.value, cfg.max_body_bytes)  # the HTTP limit holds for raw clients too
                report = decode(event.value, INCIDENTS)
                assert isinstance(report, IncidentReportedEvent)
                if report.id in routed or report.id in seen.data:
                    stats.duplicates += 1
                    tally.duplicates += 1
                    limit.record(False)
                    continue
                work = route(report, now, received_at=_record_time(msg))
                outputs.extend(work)
                routed[report.id] = (msg.partition, now.timestamp())
                for hook in incident_hooks:
                    outputs.extend(_run_hook(hook, report, msg.partition, now))
                tally.routed_report(report, caused_work=len(work) > 1)
                limit.record(False)
            except ContractError as exc:
                outputs.append(_reject(msg, exc.errors, now))
                tally.rejected.append(reason_class(exc.errors))
                limit.record(True)
            except DeadLetterLimitExceeded:
                raise
            except Exception as exc:  # a bug must not crash the agent nor skip the message silently
                log.exception("triage failed on %s[%s]@%s", msg.topic, msg.partition, msg.offset)
                outputs.append(_reject(msg, [FieldError("(processing)", f"internal error: {type(exc).__name__}")], now))
                tally.rejected.append("internal")
                limit.record(True)
        return outputs, routed, tally

    async def write_then_ack(stream, events, records, tally: BatchTally) -> None:
        await write_durably(writer, records)
        for event in events:  # Faust commits only up to the contiguous acked offsets of a partition
            await stream.ack(event)
        tally.log_routed()
        if cfg.metrics:
            tally.record(incidents.get_topic_name(), records, clock.now())

    @app.agent(incidents, name="triage")
    async def triage(stream):
        """Batches are pipelined: batch N+1 is triaged while N's writes are in flight; each batch's
        events are acked only after all its outputs (and dedup marks) are acknowledged by the broker."""
        in_flight: deque[asyncio.Future] = deque()
        async for events in stream.noack_take(cfg.batch, within=cfg.batch_within_s):
            try:
                outputs, routed, tally = triage_batch(events)
            except DeadLetterLimitExceeded as exc:
                stop_worker(exc)  # before the batch is acked: nothing is committed past it
            in_flight.append(asyncio.ensure_future(write_then_ack(stream, events, outputs + remember(routed), tally)))
            stats.routed += len(routed)
            stats.dead_lettered += sum(1 for o in outputs if o.topic is DEADLETTER)
            while in_flight and (len(in_flight) > cfg.max_in_flight_batches or in_flight[0].done()):
                await in_flight.popleft()

    @app.timer(interval=3600.0)
    async def expire_seen():
        """Forget event ids older than the retention, with tombstones so a restart forgets them too."""
        horizon = clock.now().timestamp() - cfg.dedup_retention_s
        for key, (partition, _at) in [(k, v) for k, v in list(seen.data.items()) if v and v[1] < horizon]:
            seen.data.pop(key, None)
            seen.send_changelog(partition, key, None, value_serializer="raw")

    tokens = IntakeTokenBook(Path(cfg.intake_tokens_file)) if cfg.intake_tokens_file else None
    door = IntakeDoor(writer, ledger, tokens, cfg.max_body_bytes, clock=clock,
                      insecure_local=cfg.intake_insecure_local, alerting=cfg.alerting, keyring=cfg.keyring)
    register_intake(app, door)

    # Item 18/22 agents (recalls, campus safety reports, spikes, CAP emergencies): their own modules.
    safety = register_safety_alerts(app, cfg, writer, clock)
    incident_hooks.extend(safety.incident_hooks)

    @app.on_before_shutdown.connect  # type: ignore[arg-type]
    async def close_writer(app, **kwargs) -> None:
        """After the consumer stopped: flush and close the writer (pending batches were awaited or unacked)."""
        close_ledger = getattr(ledger, "close", None)
        if close_ledger is not None:
            await close_ledger()
        close = getattr(writer, "close", None)
        if close is not None:
            await close()

    return StreamsRuntime(app=app, config=cfg, clock=clock, writer=writer, stats=stats, door=door, safety=safety,
                          incident_hooks=incident_hooks)


def _record_time(msg) -> datetime | None:
    """The Kafka record's timestamp: the intake's receive time, or the producer's/broker's for raw clients."""
    stamp = getattr(msg, "timestamp", None)
    return datetime.fromtimestamp(stamp, timezone.utc) if stamp else None


def _run_hook(hook, report, partition: int, now: datetime) -> list[Output]:
    """A failing hook must not cost the report its routing; it is logged with the report id (no content)."""
    try:
        return hook(report, partition, now)
    except Exception:
        log.exception("incident hook %s failed on report %s", getattr(hook, "__name__", hook), report.id)
        return []


def _reject(msg, errors: list[FieldError], now: datetime) -> Output:
    return dead_letter(topic=msg.topic, partition=msg.partition, offset=msg.offset, key=msg.key,
                       value=msg.value if isinstance(msg.value, bytes) else bytes(msg.value or b""),
                       errors=errors, rejected_by="streams.triage", now=now)
