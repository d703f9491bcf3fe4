"""Create or check the catalogue's topics with kafka-python's admin client, idempotently."""

from __future__ import annotations

from dataclasses import dataclass, field

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError

from contracts.topics import CATALOGUE, TopicSpec


@dataclass
class TopicReport:
    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[str]]:
        return {"created": self.created, "unchanged": self.unchanged, "drift": self.drift}


def apply_topics(bootstrap: str, namespace: str, specs: tuple[TopicSpec, ...] = CATALOGUE,
                 replication: int = 1) -> TopicReport:
    """Create missing topics; for existing ones compare partitions, retention and cleanup policy."""
    report = TopicReport()
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="childsafe-topics")
    try:
        existing = set(admin.list_topics())
        missing = [s for s in specs if s.name(namespace) not in existing]
        if missing:
            new = [NewTopic(s.name(namespace), s.partitions, replication, topic_configs=s.config) for s in missing]
            try:
                admin.create_topics(new, timeout_ms=30_000)
            except TopicAlreadyExistsError:
                pass  # another process created them between list and create
            report.created = [s.name(namespace) for s in missing]
        present = [s for s in specs if s.name(namespace) in existing]
        if present:
            _check(admin, namespace, present, report)
    finally:
        admin.close()
    return report


def _check(admin: KafkaAdminClient, namespace: str, specs: list[TopicSpec], report: TopicReport) -> None:
    names = [s.name(namespace) for s in specs]
    partitions = {t["name"]: len(t["partitions"]) for t in admin.describe_topics(names)}
    resources = [ConfigResource(ConfigResourceType.TOPIC, n) for n in names]
    described = admin.describe_configs(resources).get("topic", {})
    configs = {name: {k: v["value"] for k, v in entries.items()} for name, entries in described.items()}
    for spec in specs:
        name = spec.name(namespace)
        problems = []
        if partitions.get(name) != spec.partitions:
            problems.append(f"partitions {partitions.get(name)} != {spec.partitions}")
        for key in ("retention.ms", "cleanup.policy"):
            actual = configs.get(name, {}).get(key)
            if actual != spec.config[key]:
                problems.append(f"{key} {actual} != {spec.config[key]}")
        if problems:
            report.drift.append(f"{name}: " + ", ".join(problems))
        else:
            report.unchanged.append(name)
