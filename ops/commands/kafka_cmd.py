"""`childsafe kafka fetch|up|down|status`: the local single-node broker."""

from __future__ import annotations

from ops.cli import print_json, subcommand
from ops.kafka_local import LocalKafka
from ops.settings import Settings


def local_kafka(settings: Settings) -> LocalKafka:
    return LocalKafka(run_dir=settings.run_dir / "kafka", port=settings.kafka_port,
                      controller_port=settings.kafka_controller_port)


def _run(args, settings: Settings) -> int:
    broker = local_kafka(settings)
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


@subcommand
def register(subs) -> None:
    p = subs.add_parser("kafka", help="run the local single-node Apache Kafka (KRaft)")
    p.add_argument("action", choices=["fetch", "up", "down", "status"])
    p.set_defaults(handler=_run)
