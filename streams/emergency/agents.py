"""Emergency alerts: re-keyed by thread root (so an Update or Cancel meets the alert it references), mapped
to schools through the school atlas, and missing-child rings widened by a timer."""

from __future__ import annotations

import asyncio
import logging

import faust

from contracts.codec import decode
from contracts.errors import ContractError, FieldError
from contracts.events import EmergencyAlertIssuedEvent
from contracts.topics import EMERGENCY_ALERTS, SCHOOL_LOCATIONS
from streams.alerting_config import AlertingConfig
from streams.deadletter import dead_letter
from streams.emergency.atlas import SchoolAtlas, keep_following
from streams.emergency.threads import ExerciseMismatch, handle, thread_root, widen
from streams.emitting import write_durably
from streams.faust_plumbing import RawBytesSchema
from streams.triage import Output

log = logging.getLogger("childsafe.streams.emergency")


def register_emergency(app: faust.App, cfg, writer, clock, conf: AlertingConfig,
                       atlas: SchoolAtlas | None = None):
    raw = RawBytesSchema(key_serializer="raw", value_serializer="raw")
    alerts_topic = app.topic(EMERGENCY_ALERTS.name(cfg.namespace), schema=raw, partitions=EMERGENCY_ALERTS.partitions)
    threads_name = f"{cfg.namespace}-streams-emergency-threads"
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

    def reject(msg, errors: list[FieldError]) -> Output:
        return dead_letter(topic=msg.topic, partition=msg.partition, offset=msg.offset, key=msg.key,
                           value=msg.value or b"", errors=errors, rejected_by="streams.emergency", now=clock.now())

    @app.agent(alerts_topic, name="emergency-alerts")
    async def rekey(stream):
        async for event in stream.events():
            msg = event.message
            try:
                alert = decode(msg.value or b"", EMERGENCY_ALERTS)
            except ContractError as exc:
                await write_durably(writer, [reject(msg, exc.errors)])
                continue
            await write_durably(writer, [Output(threads_name, thread_root(alert.data).encode(), msg.value)])

    @app.agent(threads_topic, name="emergency-threads")
    async def run_threads(stream):
        async for event in stream.events():
            await ready.wait()
            msg = event.message
            alert = decode(msg.value, EmergencyAlertIssuedEvent)
            root = msg.key.decode()
            async with lock:
                try:
                    outputs, state = handle(alert, msg.partition, threads.get(root), atlas, conf, clock.now())
                except ExerciseMismatch as exc:
                    await write_durably(writer, [reject(msg, [FieldError("data.status", str(exc),
                                                                         alert.data.status.value)])])
                    continue
                await write_durably(writer, outputs)
                threads[root] = state

    async def widen_all() -> int:
        """Issue the rings that have come due; returns how many alert requests were written."""
        if not ready.is_set():
            return 0
        written = 0
        for root in list(threads.data.keys()):
            async with lock:
                state = threads.data.get(root)
                if not state or not state.get("missing") or state["cancelled"]:
                    continue
                outputs, new = widen(state, atlas, conf, clock.now())
                if outputs:
                    await write_durably(writer, outputs)
                    written += len(outputs)
                if new != state:
                    threads.data[root] = new
                    threads.send_changelog(new["p"], root, new)
        return written

    app.timer(interval=conf.widening_tick_s, name="missing-child-widening")(widen_all)
    return {"widen": widen_all, "atlas": atlas, "atlas_ready": ready}
