"""Campus safety reports: hazard follow-ups for failed critical items, and the drill-overdue check.

The check is a timer over the table of last drills; it writes its 'flagged' marks with an explicit
partition (a timer has no current event), the partition each school's reports arrive on, in the same
acknowledged write as the alerts they record.
"""

from __future__ import annotations

import logging

import faust

from contracts.codec import decode
from contracts.topics import SAFETY_REPORTS
from streams.agent_loop import each_message, table_put
from streams.alerting_config import AlertingConfig
from streams.faust_plumbing import RawBytesSchema
from streams.output import Output
from streams.safety.drills import drill_overdue_alerts, overdue, record_report
from streams.safety.followup import hazard_followups
from streams.writer import write_durably

log = logging.getLogger("childsafe.streams.safety")


def register_safety(app: faust.App, cfg, writer, clock, conf: AlertingConfig):
    raw = RawBytesSchema(key_serializer="raw", value_serializer="raw")
    reports = app.topic(SAFETY_REPORTS.name(cfg.namespace), schema=raw, partitions=SAFETY_REPORTS.partitions)
    drills = app.Table("safety-drills", default=None, partitions=SAFETY_REPORTS.partitions)

    @app.agent(reports, name="safety-reports")
    async def take_reports(stream):
        async def handle(event) -> list[Output]:
            msg = event.message
            report = decode(msg.value or b"", SAFETY_REPORTS)
            outputs = hazard_followups(report, conf, clock.now())
            school = report.data.school_id
            return outputs + [table_put(drills, msg.partition, school,
                                        record_report(drills.get(school), msg.partition, report))]

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.safety",
                           limit=cfg.deadletter_limit)

    async def check_drills() -> int:
        """Flag every school of this worker's partitions that is overdue; returns how many were flagged.
        A school that fails is logged and retried on the next check; the others go on."""
        now = clock.now()
        flagged = 0
        for school, value in list(drills.data.items()):
            try:
                since = overdue(value, now.date(), conf.drill_period_days) if value else None
                if since is None:
                    continue
                outputs = drill_overdue_alerts(school, value, since, conf.drill_period_days, now)
            except Exception:
                log.exception("drill check failed for school %s; retried on the next check", school)
                continue
            value = [*value[:4], since]
            outputs.append(table_put(drills, value[0], school, value))  # the flag is written with its alerts
            await write_durably(writer, outputs)
            flagged += 1
        return flagged

    app.timer(interval=conf.drill_check_interval_s, name="drill-overdue-check")(check_drills)
    return check_drills
