"""Outbreak spikes, counted per school and per district.

Per school: counted inside the triage agent's pass over the incident topic (an incident hook; a second
agent on that topic would decode every report twice); the topic is keyed by school id, so each school's
window lives in the partition that receives its reports. Per district: reports of the spike kinds are re-keyed by district to an internal topic
(contracts/spikes.SpikeReportForwarded),
so one partition counts a whole district. Windows run on event time clamped to the injected clock.
"""

from __future__ import annotations

import faust

from contracts.spikes import SpikeReportForwarded
from contracts.topics import INCIDENTS, SPIKE_DISTRICTS
from streams.agent_loop import each_message, table_put
from streams.alerting_config import AlertingConfig
from streams.faust_plumbing import RawBytesSchema
from streams.output import Output
from streams.spikes.outbreak import outbreak_alert
from streams.spikes.window import SpikeRule, observe


def register_spikes(app: faust.App, cfg, writer, clock, conf: AlertingConfig):
    """Registers the district agent; returns the school count, an incident hook for the triage agent's pass."""
    raw = RawBytesSchema(key_serializer="raw", value_serializer="raw")
    by_district_name = SPIKE_DISTRICTS.name(cfg.namespace)
    by_district = app.topic(by_district_name, schema=raw, partitions=INCIDENTS.partitions, internal=True)
    schools = app.Table("spike-schools", default=None, partitions=INCIDENTS.partitions)
    districts = app.Table("spike-districts", default=None, partitions=INCIDENTS.partitions)
    school_rule = SpikeRule(conf.spike_school_threshold, conf.spike_window_s, conf.spike_school_children)
    district_rule = SpikeRule(conf.spike_district_threshold, conf.spike_window_s, conf.spike_district_children)
    kinds = set(conf.spike_kinds)

    def count_school(report, partition: int, now) -> list[Output]:
        """Called by the triage agent for each new report: one decode, one pass over the incident topic.
        The school's window lives in the report's partition; its changelog record is written with the
        triage batch, so the count is durable before the report is acked."""
        r = report.data
        if r.category.value not in kinds:
            return []
        key = f"{r.category.value}|{r.school_id}"
        state, spike = observe(schools.data.get(key), report.id, r.occurred_at.timestamp(), now.timestamp(),
                               school_rule, r.children_count)
        forwarded = SpikeReportForwarded(report_id=report.id, kind=r.category, district_code=r.district_code,
                                         occurred_at_s=r.occurred_at.timestamp(), children=r.children_count)
        outputs = [Output(by_district_name, r.district_code.encode(), forwarded.to_bytes())]
        if spike:
            outputs.append(outbreak_alert("school", r.school_id, r.district_code, r.category.value, spike, now))
        return outputs + [table_put(schools, partition, key, state)]

    @app.agent(by_district, name="spikes-district")
    async def count_districts(stream):
        async def handle(event) -> list[Output]:
            f = SpikeReportForwarded.from_bytes(event.message.value)
            kind, district = f.kind.value, f.district_code
            key = f"{kind}|{district}"
            state, spike = observe(districts.get(key), f.report_id, f.occurred_at_s, clock.now().timestamp(),
                                   district_rule, f.children)
            outputs = [outbreak_alert("district", district, district, kind, spike, clock.now())] if spike else []
            return outputs + [table_put(districts, event.message.partition, key, state)]

        await each_message(stream, handle, writer=writer, clock=clock, rejected_by="streams.spikes-district",
                           limit=cfg.deadletter_limit)

    return count_school
