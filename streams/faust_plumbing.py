"""Cheaper Faust plumbing for the hot path: a Monitor without per-message bookkeeping, a raw schema.

Faust's built-in Monitor without its per-message bookkeeping:

The default Monitor records every message and stream event in Python dicts and deques; on this
worker that was a measurable share of the per-report cost (see docs/benchmarks.md). ChildSafe keeps
its own Prometheus metrics per batch instead; rebalance, commit and web hooks are left as they are.
"""

from __future__ import annotations

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
