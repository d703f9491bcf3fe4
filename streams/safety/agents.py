"""Campus safety reports: hazard follow-ups for failed critical items, and the drill-overdue check.

The check is a timer over the table of last drills; it writes its 'flagged' marks with an explicit
partition (a timer has no current event), the partition each school's reports arrive on.
"""

from __future__ import annotations

import logging

import faust

from contracts.codec import decode
from contracts.errors import ContractError
from contracts.topics import SAFETY_REPORTS
from streams.alerting_config import AlertingConfig
from streams.deadletter import dead_letter
from streams.emitting import write_durably
from streams.faust_plumbing import RawBytesSchema
from streams.safety.drills import drill_overdue_alerts, overdue, record_report
from streams.safety.followup import hazard_followups

log = logging.getLogger("childsafe.streams.safety")


def register_safety(app: faust.App, cfg, writer, clock, conf: AlertingConfig):
    raw = RawBytesSchema(key_serializer="raw", value_serializer="raw")
    reports = app.topic(SAFETY_REPORTS.name(cfg.namespace), schema=raw, partitions=SAFETY_REPORTS.partitions)
    drills = app.Table("safety-drills", default=None, partitions=SAFETY_REPORTS.partitions)

    @app.agent(reports, name="safety-reports")
    async def take_reports(stream):
        async for event in stream.events():
            msg = event.message
            try:
                report = decode(msg.value or b"", SAFETY_REPORTS)
            except ContractError as exc:
                await write_durably(writer, [dead_letter(
                    topic=msg.topic, partition=msg.partition, offset=msg.offset, key=msg.key, value=msg.value or b"",
                    errors=exc.errors, rejected_by="streams.safety", now=clock.now())])
                continue
            await write_durably(writer, hazard_followups(report, conf, clock.now()))
            school = report.data.school_id
            drills[school] = record_report(drills.get(school), msg.partition, report)

    async def check_drills() -> int:
        """Flag every school of this worker's partitions that is overdue; returns how many were flagged."""
        now = clock.now()
        flagged = 0
        for school, value in list(drills.data.items()):
            since = overdue(value, now.date(), conf.drill_period_days) if value else None
            if since is None:
                continue
            await write_durably(writer, drill_overdue_alerts(school, value, since, conf.drill_period_days, now))
            value = [*value[:4], since]
            drills.data[school] = value
            drills.send_changelog(value[0], school, value)
            flagged += 1
        return flagged

    app.timer(interval=conf.drill_check_interval_s, name="drill-overdue-check")(check_drills)
    return check_drills
