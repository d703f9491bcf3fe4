"""The SMS workers' consumer groups live in the topic namespace, like `<ns>-streams` and `<ns>.cases`: two
stacks (or two test runs) on one cluster never split one group's partitions between them (issue 11)."""

from __future__ import annotations

import pytest

from ops.bootstrap import CANCELLATIONS_GROUP, DISPATCH_GROUP, FANOUT_GROUP, STATUS_GROUP, build_sms_consumer
from ops.settings import Settings

pytestmark = pytest.mark.integration
GROUPS = (FANOUT_GROUP, DISPATCH_GROUP, CANCELLATIONS_GROUP, STATUS_GROUP)


def _group_ids(bootstrap: str, namespace: str) -> list[str]:
    settings = Settings(bootstrap_servers=bootstrap, topic_namespace=namespace)
    ids = []
    for group in GROUPS:
        consumer = build_sms_consumer(settings, f"{namespace}.sms.jobs.v1", group)
        try:
            ids.append(consumer.config["group_id"])
        finally:
            consumer.close()
    return ids


def test_each_namespace_has_its_own_sms_consumer_groups(kafka_bootstrap, namespace):
    mine, other = _group_ids(kafka_bootstrap, namespace), _group_ids(kafka_bootstrap, f"{namespace}x")
    assert mine == [f"{namespace}.{g}" for g in ("sms-fanout", "sms-dispatch", "sms-cancellations", "sms-status")]
    assert not set(mine) & set(other), "two namespaces must never share a consumer group"
    assert len(set(mine)) == len(GROUPS)
