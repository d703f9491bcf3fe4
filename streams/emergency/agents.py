"""Emergency alerts: re-keyed by thread root (so an Update or Cancel meets the alert it references), mapped
to schools through the school atlas, and missing-child rings widened by a timer."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import faust

from contracts.codec import decode
from contracts.errors import ContractError, FieldError
from contracts.events import EmergencyAlertIssuedEvent
from contracts.topics import EMERGENCY_ALERTS, EMERGENCY_THREADS, SCHOOL_LOCATIONS
from streams.agent_loop import each_message, table_put
from streams.alerting_config import AlertingConfig
from streams.emergency.atlas import SchoolAtlas, keep_following
from streams.emergency.threads import ExerciseMismatch, release_due, thread_root, widen
from streams.emergency.threads import handle as handle_thread
from streams.faust_plumbing import RawBytesSchema
from streams.output import Output
from streams.writer import write_durably

log = logging.getLogger("childsafe.streams.emergency")


@dataclass
class EmergencyHandles:
    """The widening timer's body and the school atlas it reads (tests fill the atlas and tick the timer)."""

    widen: Callable[[], Awaitable[int]]
    atlas: SchoolAtlas
    atlas_ready: asyncio.Event


def register_emergency(app: faust.App, cfg, writer, clock, conf: AlertingConfig,
                       atlas: SchoolAtlas | None = None) -> EmergencyHandles:
    raw = RawBytesSchema(key_serializer="raw", value_serializer="raw")
    alerts_topic = app.topic(EMERGENCY_ALERTS.name(cfg.namespace), schema=raw, partitions=EMERGENCY_ALERTS.partitions)
    threads_name = EMERGENCY_THREADS.name(cfg.namespace)
    threads_topic = app.topic(threads_name, schema=raw, partitions=EMERGENCY_ALERTS.partitions, internal=True)
    threads = app.Table("emergency-threads", default=None, partitions=EMERGENCY_ALERTS.partitions)
    ready = asyncio.Event()
    lock = asyncio.Lock()  # the agent and the widening timer never interleave on a thread's state
    if atlas is None:
        atlas = SchoolAtlas()

        @app.task
        async def follow_atlas() -> None:
            await keep_following(atlas, cfg.bootstrap, SCHOOL_LOCATIONS.name(cfg.namespace), ready)
    else:
        ready.set()

    @app.agent(alerts_topic, name="emergency-alerts")
    async def rekey(stream):
        async def handle(event) -> list[Output]:
            msg = event.message
            alert = decode(msg.value or b"", EMERGENCY_ALERTS)
            return [Output(threads_name, thread_root(alert.data).encode(), msg.value)]

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.emergency",
                           limit=cfg.deadletter_limit)

    @app.agent(threads_topic, name="emergency-threads")
    async def run_threads(stream):
        async def handle(event) -> list[Output]:
            await ready.wait()
            msg = event.message
            alert = decode(msg.value or b"", EmergencyAlertIssuedEvent)
            root = (msg.key or b"").decode() or thread_root(alert.data)
            try:
                outputs, state = handle_thread(alert, msg.partition, threads.get(root), atlas, conf, clock.now())
            except ExerciseMismatch as exc:
                raise ContractError([FieldError("data.status", str(exc), alert.data.status.value)]) from None
            if state is None:  # a Draft or System message for a thread that does not exist: nothing to keep
                return outputs
            return outputs + [table_put(threads, msg.partition, root, state)]

        # the lock spans a batch and its write: the widening timer never sees a thread half-written
        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.emergency",
                           limit=cfg.deadletter_limit, lock=lock)

    async def widen_all() -> int:
        """Send the held CAP messages and issue the rings that have come due; returns how many records were
        written. A thread that fails is logged and retried on the next tick; the others go on."""
        if not ready.is_set():
            return 0
        written = 0
        for root in list(threads.data.keys()):
            async with lock:
                state = threads.data.get(root)
                if not state or not (state.get("missing") or state.get("scheduled")) or state["cancelled"]:
                    continue
                try:
                    now = clock.now()
                    outputs, new = release_due(state, atlas, conf, now)
                    more, new = widen(new, atlas, conf, now)
                    outputs += more
                except Exception:
                    log.exception("widening thread %s failed; retried on the next tick", root)
                    continue
                if new != state:
                    outputs.append(table_put(threads, new["p"], root, new))  # state written with its rings
                if outputs:
                    await write_durably(writer, outputs)
                    written += len(outputs) - (new != state)
        return written

    app.timer(interval=conf.widening_tick_s, name="missing-child-widening")(widen_all)
    return EmergencyHandles(widen_all, atlas, ready)
