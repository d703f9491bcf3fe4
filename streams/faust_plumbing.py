"""Cheaper Faust plumbing for the hot path: a Monitor without per-message bookkeeping, a raw schema.

Faust's built-in Monitor without its per-message bookkeeping:

The default Monitor records every message and stream event in Python dicts and deques; on this
worker that was a measurable share of the per-report cost (see docs/benchmarks.md). ChildSafe keeps
its own Prometheus metrics per batch instead; rebalance, commit and web hooks are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import faust
from faust.sensors.monitor import Monitor


class BatchOnlyMonitor(Monitor):
    def on_message_in(self, tp, offset, message) -> None:
        pass

    def on_stream_event_in(self, tp, offset, stream, event):
        return None

    def on_stream_event_out(self, tp, offset, stream, event, state=None) -> None:
        pass

    def on_message_out(self, tp, offset, message) -> None:
        pass

    def on_table_get(self, table, key) -> None:
        pass


class RawBytesSchema(faust.Schema):
    """Hands the agent the record's key and value bytes untouched: our codec validates them, so
    malformed bytes become dead letters instead of Faust decode errors, and no codec runs twice."""

    def loads_key(self, app, message, *, loads=None, serializer=None):
        return message.key

    def loads_value(self, app, message, *, loads=None, serializer=None):
        return message.value


def commit_only_past_acked_offsets(guarded: Callable[[str], bool]) -> None:
    """Faust 0.15.3's ``Consumer._new_offset`` commits the first run of acked offsets if it starts at most one past
    the committed offset (``min(acked) - committed > 1``), but the committed offset already is the next one to
    read: a run starting one past it skips that one message. A message the fetcher dropped at a rebalance (never
    delivered to the agent) was committed past that way when the next one was acked: the full fault profile lost
    2 reports at a streams worker's SIGKILL (committed offsets 23 → 24 → 26 with offset 24 never routed,
    docs/benchmarks.md). Here, on ``guarded`` topics (never compacted: no offset is missing from them), a run must
    start at the committed offset (or at a gap Faust knows to be empty); until then nothing is committed, and a
    rebalance or restart reads from the committed offset again (the triage dedup table drops what was done).
    Installed once, by ``streams.config.faust_app``."""
    from faust.transport.consumer import Consumer

    if getattr(Consumer._new_offset, "_childsafe_guarded", False):
        return
    original = Consumer._new_offset

    def _new_offset(self, tp):
        acked, committed = self._acked[tp], self._committed_offset[tp]
        if acked and committed is not None and guarded(tp.topic):
            head = min([*acked, *(gap.begin for gap in self._gap[tp])])
            if head > committed:
                return None
        return original(self, tp)

    _new_offset._childsafe_guarded = True  # type: ignore[attr-defined]
    Consumer._new_offset = _new_offset  # type: ignore[method-assign]
