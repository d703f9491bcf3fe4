"""Create or check the catalogue's topics with kafka-python's admin client, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError

from contracts.topics import CATALOGUE, STREAMS_INTERNAL, TopicSpec, replication_for

CHECKED = ("retention.ms", "cleanup.policy", "min.insync.replicas", "max.message.bytes",
           "unclean.leader.election.enable")


@dataclass
class TopicReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    replication: int = 1

    def as_dict(self) -> dict[str, object]:
        return {"created": self.created, "unchanged": self.unchanged, "drift": self.drift,
                "replication": self.replication}


def cluster_brokers(bootstrap: str) -> int:
    """How many brokers the cluster says it has now (the topics the streams worker creates itself follow it)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="childsafe-topics")
    try:
        return len(admin.describe_cluster()["brokers"])
    finally:
        admin.close()


def apply_topics(bootstrap: str, namespace: str, specs: tuple[TopicSpec, ...] = CATALOGUE + STREAMS_INTERNAL,
                 brokers: int | None = None) -> TopicReport:
    """Create missing topics; for existing ones compare partitions and configs. Replication and
    ``min.insync.replicas`` follow the cluster's size (``brokers``, default: as the cluster describes itself)."""
    report = TopicReport()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="childsafe-topics")
    try:
        brokers = brokers or len(admin.describe_cluster()["brokers"])
        report.replication = replication_for(brokers)[0]
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name(namespace) not in existing]
        if missing:
            new = [NewTopic(s.name(namespace), s.partitions, report.replication, topic_configs=s.config_for(brokers))
                   for s in missing]
            try:
                admin.create_topics(new, timeout_ms=30_000)
            except TopicAlreadyExistsError:
                pass  # another process created them between list and create
            report.created = [s.name(namespace) for s in missing]
        present = [s for s in specs if s.name(namespace) in existing]
        if present:
            _check(admin, namespace, present, report, brokers)
    finally:
        admin.close()
    return report


def _check(admin: KafkaAdminClient, namespace: str, specs: list[TopicSpec], report: TopicReport,
           brokers: int) -> None:
    names = [s.name(namespace) for s in specs]
    described_topics = admin.describe_topics(names)
    partitions = {t["name"]: len(t["partitions"]) for t in described_topics}
    replicas = {t["name"]: min((len(p.get("replica_nodes", p.get("replicas", ()))) for p in t["partitions"]), default=0) for t in described_topics}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    described = admin.describe_configs(resources).get("topic", {})
    configs = {name: {k: v["value"] for k, v in entries.items()} for name, entries in described.items()}
    for spec in specs:
        name = spec.name(namespace)
        problems = []
        if partitions.get(name) != spec.partitions:
            problems.append(f"partitions {partitions.get(name)} != {spec.partitions}")
        if replicas.get(name) != report.replication:
            problems.append(f"replication {replicas.get(name)} != {report.replication}")
        wanted = spec.config_for(brokers)
        for key in CHECKED:
            actual = configs.get(name, {}).get(key)
            if key in wanted and actual != wanted[key]:
                problems.append(f"{key} {actual} != {wanted[key]}")
        if problems:
            report.drift.append(f"{name}: " + ", ".join(problems))
        else:
            report.unchanged.append(name)
