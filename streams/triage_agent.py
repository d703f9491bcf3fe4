"""The triage agent on the incident topic: decode, dedup, route (streams/triage.py), run the incident hooks, and
write everything durably before the batch is acked."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import faust

from contracts.clock import Clock
from contracts.codec import decode
from contracts.dlq import DeadLetterLimitExceeded, DeadLetterWindow, reason_class
from contracts.errors import ContractError, FieldError
from contracts.events import IncidentReportedEvent
from contracts.topics import DEADLETTER, INCIDENTS
from streams.config import StreamsConfig
from streams.deadletter import dead_letter, refuse_oversized, stop_worker
from streams.dedup import SeenReports
from streams.faust_plumbing import RawBytesSchema
from streams.metrics import BatchTally
from streams.output import Output
from streams.ports import StreamsWriter
from streams.triage import route
from streams.writer import write_durably

log = logging.getLogger("childsafe.streams")

IncidentHook = Callable[[IncidentReportedEvent, int, datetime], list[Output]]
"""More work on each new report, done in triage's one pass (e.g. outbreak counting): (report, partition, now)."""


@dataclass
class TriageStats:
    routed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0


def register_triage(app: faust.App, cfg: StreamsConfig, writer: StreamsWriter, clock: Clock, seen: SeenReports,
                    incident_hooks: list[IncidentHook]) -> TriageStats:
    stats = TriageStats()
    limit = DeadLetterWindow(cfg.deadletter_limit, "streams.triage")
    incidents = app.topic(INCIDENTS.name(cfg.namespace), schema=RawBytesSchema(key_serializer="raw",
                                                                                value_serializer="raw"),
                          partitions=INCIDENTS.partitions)

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
                if report.id in routed or report.id in seen:
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

    async def write_then_ack(stream, events, records, tally: BatchTally, after: asyncio.Future | None) -> None:
        await write_durably(writer, records)
        if after is not None:
            # Acks in offset order: Faust commits the first run of consecutive acked offsets, and right after a
            # rebalance (no commit of its own yet) it does not check that run starts at the committed offset,
            # so a later batch acked while an earlier one's write was still failing committed past it (the fault
            # suite lost 7 reports after a broker SIGKILL that way). The writes still overlap; the acks wait.
            await after
        for event in events:
            await stream.ack(event)
        tally.log_routed()
        if cfg.metrics:
            tally.record(incidents.get_topic_name(), records, clock.now())

    @app.agent(incidents, name="triage")
    async def triage(stream):
        """Batches are pipelined: batch N+1 is triaged while N's writes are in flight; each batch's
        events are acked only after all its outputs (and dedup marks) are acknowledged by the broker, and
        only after batch N's events were acked (never past an unwritten batch)."""
        in_flight: deque[asyncio.Future] = deque()
        async for events in stream.noack_take(cfg.batch, within=cfg.batch_within_s):
            try:
                outputs, routed, tally = triage_batch(events)
            except DeadLetterLimitExceeded as exc:
                stop_worker(exc)  # before the batch is acked: nothing is committed past it
            previous = in_flight[-1] if in_flight else None
            in_flight.append(asyncio.ensure_future(write_then_ack(stream, events, outputs + seen.remember(routed),
                                                                  tally, previous)))
            stats.routed += len(routed)
            stats.dead_lettered += sum(1 for o in outputs if o.topic is DEADLETTER)
            while in_flight and (len(in_flight) > cfg.max_in_flight_batches or in_flight[0].done()):
                await in_flight.popleft()

    return stats


def _record_time(msg) -> datetime | None:
    """The Kafka record's timestamp: the intake's receive time, or the producer's/broker's for raw clients."""
    stamp = getattr(msg, "timestamp", None)
    return datetime.fromtimestamp(stamp, UTC) if stamp else None


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
