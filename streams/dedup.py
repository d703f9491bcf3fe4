"""The triage agent's dedup table: event ids already routed, per partition (a re-sent report has the same key, so
the same partition), forgotten after the retention by an hourly timer."""

from __future__ import annotations

import json

import faust

from contracts.clock import Clock
from contracts.topics import INCIDENTS
from streams.output import Output


class SeenReports:
    """Value per event id: [source partition, routed at (epoch s)], plain JSON so recovery needs no model class."""

    def __init__(self, app: faust.App, clock: Clock, retention_s: float):
        self.table = app.Table("triage-seen", default=None, partitions=INCIDENTS.partitions)
        self.clock, self.retention_s = clock, retention_s

    def __contains__(self, event_id: str) -> bool:
        return event_id in self.table.data

    def remember(self, routed: dict[str, tuple[int, float]]) -> list[Output]:
        """Mark event ids as routed. The changelog records are written after the batch's outputs were
        acknowledged and before the batch is acked (``write_durably``; take() has no current event for Faust's
        own table writes): a crash in between routes the report again, never marks it routed with outputs lost."""
        changelog = self.table.changelog_topic.get_topic_name()
        records = []
        for event_id, (partition, at) in routed.items():
            self.table.data[event_id] = [partition, at]
            records.append(Output(changelog, json.dumps(event_id).encode(), json.dumps([partition, at]).encode(),
                                  partition=partition))
        return records

    def expire(self) -> None:
        """Forget event ids older than the retention, with tombstones so a restart forgets them too."""
        horizon = self.clock.now().timestamp() - self.retention_s
        data = self.table.data
        for key, (partition, _at) in [(k, v) for k, v in list(data.items()) if v and v[1] < horizon]:
            data.pop(key, None)
            self.table.send_changelog(partition, key, None, value_serializer="raw")


def register_dedup(app: faust.App, clock: Clock, retention_s: float) -> SeenReports:
    seen = SeenReports(app, clock, retention_s)
    app.timer(interval=3600.0, name="triage-seen-expiry")(_expiry(seen))
    return seen


def _expiry(seen: SeenReports):
    async def expire_seen() -> None:
        seen.expire()

    return expire_seen
