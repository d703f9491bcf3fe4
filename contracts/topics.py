"""The topic catalogue: name, key, partitions, retention, cleanup policy and contract, defined once.

Names carry a namespace (``childsafe`` in production) so tests can run isolated sets on one broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from contracts import events as ev
from contracts.envelope import CloudEvent

DAY_MS = 24 * 3600 * 1000
# The largest body the HTTP intake accepts (CHILDSAFE_MAX_BODY_BYTES' default) and the largest record the broker
# takes on an intake topic: the body plus room for the CloudEvent envelope intake wraps around a bare payload.
INTAKE_BODY_LIMIT = 256 * 1024
INTAKE_MAX_MESSAGE_BYTES = INTAKE_BODY_LIMIT + 16 * 1024


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of ``brokers``: 3 and 2 from three brokers on,
    so one broker may fail without losing an acknowledged write or refusing new ones."""
    replicas = max(1, min(3, brokers))
    return replicas, (2 if replicas >= 3 else 1)


@dataclass(frozen=True)
class TopicSpec:
    suffix: str
    key: str
    partitions: int
    retention_ms: int
    cleanup_policy: str
    events: tuple[type[CloudEvent], ...]
    about: str
    max_message_bytes: int | None = None  # None: the broker's default

    def name(self, namespace: str = "childsafe") -> str:
        return f"{namespace}.{self.suffix}"

    @property
    def config(self) -> dict[str, str]:
        return self.config_for(brokers=1)

    def config_for(self, brokers: int) -> dict[str, str]:
        """Topic configs on a cluster of ``brokers`` (see ``replication_for``); unclean leader election is off:
        a replica that missed acknowledged writes never becomes leader."""
        config = {"retention.ms": str(self.retention_ms), "cleanup.policy": self.cleanup_policy,
                  "min.insync.replicas": str(replication_for(brokers)[1]), "unclean.leader.election.enable": "false"}
        if self.max_message_bytes is not None:
            config["max.message.bytes"] = str(self.max_message_bytes)
        return config


INCIDENTS = TopicSpec("incidents.reported.v1", "school id", 6, 30 * DAY_MS, "delete",
                      (ev.IncidentReportedEvent,), "incident reports from officers",
                      INTAKE_MAX_MESSAGE_BYTES)
RECALLS = TopicSpec("recalls.published.v1", "recall number", 3, 365 * DAY_MS, "delete",
                    (ev.RecallPublishedEvent,), "recall notices from regulators",
                      INTAKE_MAX_MESSAGE_BYTES)
SAFETY_REPORTS = TopicSpec("safety.reports.v1", "school id", 6, 90 * DAY_MS, "delete",
                           (ev.SafetyReportFiledEvent,), "inspections, drills, food-safety checks",
                      INTAKE_MAX_MESSAGE_BYTES)
EMERGENCY_ALERTS = TopicSpec("emergency.alerts.v1", "alert id", 3, 90 * DAY_MS, "delete",
                             (ev.EmergencyAlertIssuedEvent,), "emergency alerts (CAP-derived)",
                      INTAKE_MAX_MESSAGE_BYTES)
CASE_COMMANDS = TopicSpec("cases.commands.v1", "case id", 6, 365 * DAY_MS, "delete",
                          (ev.OpenCaseCommand,), "open / update mandatory-report cases")
ALERTS_REQUESTED = TopicSpec("alerts.requested.v1", "alert id", 6, 30 * DAY_MS, "delete",
                             (ev.AlertRequestedEvent,), "an alert with its audience selector")
SMS_JOBS = TopicSpec("sms.jobs.v1", "recipient", 12, 7 * DAY_MS, "delete",
                     (ev.SmsJobEvent,), "one SMS to one recipient")
SMS_STATUS = TopicSpec("sms.status.v1", "message sid", 6, 30 * DAY_MS, "delete",
                       (ev.SmsStatusReportedEvent,), "provider status callbacks, inbound replies")
AUDIT = TopicSpec("audit.v1", "subject", 6, 400 * DAY_MS, "delete",
                  (ev.AuditRecordedEvent,), "who did what, when")
DEADLETTER = TopicSpec("deadletter.v1", "source topic", 3, 90 * DAY_MS, "delete",
                       (ev.DeadLetteredEvent,), "rejected input with its reason, byte-exact")

REGISTRATIONS = TopicSpec("registrations.holdings.v1", "holder (school:<id> or guardian:<id>)", 6, -1, "compact",
                          (ev.ProductHoldingsEvent,),
                          "each holder's registered products (latest state; safety use only)")
SCHOOL_LOCATIONS = TopicSpec("directory.schools.v1", "school id", 3, -1, "compact",
                             (ev.SchoolLocatedEvent,), "school coordinates, for CAP areas and missing-child rings")
ALERTS_CANCELLED = TopicSpec("alerts.cancelled.v1", "alert id", 6, 30 * DAY_MS, "delete",
                             (ev.AlertCancelledEvent,), "stop the pending sends of an alert")

CATALOGUE: tuple[TopicSpec, ...] = (INCIDENTS, RECALLS, SAFETY_REPORTS, EMERGENCY_ALERTS, CASE_COMMANDS,
                                    ALERTS_REQUESTED, SMS_JOBS, SMS_STATUS, AUDIT, DEADLETTER, REGISTRATIONS,
                                    SCHOOL_LOCATIONS, ALERTS_CANCELLED)
INTAKE: tuple[TopicSpec, ...] = (INCIDENTS, RECALLS, SAFETY_REPORTS, EMERGENCY_ALERTS)


@dataclass(frozen=True)
class InternalTopic(TopicSpec):
    """A topic only the streams worker writes and reads (re-keying, co-partitioning), named
    ``<namespace>-streams-<suffix>``. Created with the catalogue, before the worker joins its group: a topic
    missing when partitions are assigned is left unassigned, and what is written to it is never read."""

    def name(self, namespace: str = "childsafe") -> str:
        return f"{namespace}-streams-{self.suffix}"


EMERGENCY_THREADS = InternalTopic("emergency-threads", "thread root (the first alert's identifier)",
                                  EMERGENCY_ALERTS.partitions, 7 * DAY_MS, "delete", (ev.EmergencyAlertIssuedEvent,),
                                  "CAP messages re-keyed by thread, so an Update or Cancel meets its alert")
RECALL_PROBES = InternalTopic("recall-probes", "holder", REGISTRATIONS.partitions, 7 * DAY_MS, "delete", (),
                              "a recall's probe per partition of the holdings (co-partitioned with them)")
RECALL_DISCLOSURES = InternalTopic("recall-disclosures", "recall number", 1, 7 * DAY_MS, "delete",
                                   (ev.RecallPublishedEvent,), "every notice, into the one table of the public feed")
SPIKE_DISTRICTS = InternalTopic("spike-districts", "district code", INCIDENTS.partitions, 7 * DAY_MS, "delete", (),
                                "spike-kind reports re-keyed by district")
STREAMS_INTERNAL: tuple[InternalTopic, ...] = (EMERGENCY_THREADS, RECALL_PROBES, RECALL_DISCLOSURES, SPIKE_DISTRICTS)
