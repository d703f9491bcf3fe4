"""`childsafe kafka fetch|up|down|status [--brokers N]`: the local Kafka, one node or a cluster of N KRaft nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ops.cli import print_json, subcommand
from ops.settings import Settings

if TYPE_CHECKING:
    from ops.kafka_local import LocalKafkaCluster


def _run(args, settings: Settings) -> int:
    from ops.bootstrap import build_local_cluster, build_local_kafka

    if args.brokers > 1:
        return _run_cluster(args, build_local_cluster(settings, args.brokers))
    broker = build_local_kafka(settings)
    if args.action == "fetch":
        print(f"Kafka jars in {broker.fetch()}")
    elif args.action == "up":
        took = broker.up()
        print(f"Kafka {broker.version} answering on {broker.bootstrap} ({took:.1f}s)")
    elif args.action == "down":
        print("Kafka stopped" if broker.down() else "Kafka was not running")
    else:
        status = broker.status()
        print_json(status)
        return 0 if status["answers"] else 1
    return 0


def _run_cluster(args, cluster: LocalKafkaCluster) -> int:
    if args.action == "fetch":
        print(f"Kafka jars in {cluster.nodes[0].fetch()}")
    elif args.action == "up":
        took = cluster.up()
        print(f"Kafka cluster of {len(cluster.ports)} KRaft nodes answering on {cluster.bootstrap} ({took:.1f}s); "
              f"use CHILDSAFE_BOOTSTRAP_SERVERS={cluster.bootstrap}")
    elif args.action == "down":
        print(f"stopped {cluster.down()} of {len(cluster.ports)} nodes")
    else:
        status = cluster.status()
        print_json(status)
        return 0 if all(s["answers"] for s in status) else 1
    return 0


@subcommand
def register(subs) -> None:
    p = subs.add_parser("kafka", help="run the local Apache Kafka (KRaft): one node, or --brokers N")
    p.add_argument("action", choices=["fetch", "up", "down", "status"])
    p.add_argument("--brokers", type=int, default=1, choices=range(1, 10), metavar="N",
                   help="nodes (each broker and controller); 3 for a quorum that survives one failure")
    p.set_defaults(handler=_run)
