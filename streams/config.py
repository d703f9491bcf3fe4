"""The streams worker's configuration and the Faust app it configures."""

from __future__ import annotations

from dataclasses import dataclass, field

import faust

from contracts.dlq import DeadLetterLimit
from contracts.topics import CATALOGUE, INCIDENTS
from streams.alerting_config import AlertingConfig
from streams.faust_plumbing import BatchOnlyMonitor, commit_only_past_acked_offsets
from streams.internal_topics import app_id


@dataclass(frozen=True)
class StreamsConfig:
    """What the streams worker needs, built from ops.settings by the composition root."""

    bootstrap: str
    namespace: str
    data_dir: str = ".run/streams"
    web_host: str = "127.0.0.1"
    web_port: int = 6066
    max_body_bytes: int = 256 * 1024
    intake_tokens_file: str | None = None  # hashed intake tokens (streams/intake_tokens.py); None = nobody gets in
    intake_insecure_local: bool = False  # no tokens: only with a loopback web_host (checked by ops.bootstrap)
    batch: int = 500
    batch_within_s: float = 0.05
    max_in_flight_batches: int = 3
    deadletter_limit: DeadLetterLimit = field(default_factory=DeadLetterLimit)  # each agent keeps its own window
    dedup_retention_s: float = 14 * 24 * 3600
    session_timeout_s: float = 6.0
    replication: int = 1  # of the topics Faust and the ledger create: the cluster's (ops.bootstrap.build_streams)
    heartbeat_s: float = 1.0
    alerting: AlertingConfig = field(default_factory=AlertingConfig)  # the item 18/22 agents
    metrics: bool = True  # off only to measure what the metrics cost (ops/bench)
    keyring: object = None  # contracts.sealed.Keyring: the intake seals identity with it (None: unsealed, unit tests)


def faust_app(cfg: StreamsConfig) -> faust.App:
    """The Faust app: acks=all, fast failover (6 s session), in-memory tables recovered from their changelogs, and
    only our own views on the web port."""
    deleted = {spec.suffix for spec in CATALOGUE if spec.cleanup_policy == "delete"}  # "<namespace>.<suffix>"
    commit_only_past_acked_offsets(lambda topic: topic.partition(".")[2] in deleted)
    app = faust.App(
        app_id(cfg.namespace),
        broker=f"kafka://{cfg.bootstrap}",
        store="memory://",
        datadir=cfg.data_dir,
        autodiscover=False,
        web_enabled=True,
        web_host=cfg.web_host,
        web_bind=cfg.web_host,
        web_port=cfg.web_port,
        topic_replication_factor=cfg.replication,  # changelogs on one broker stalled every agent when it died
        topic_partitions=INCIDENTS.partitions,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=cfg.session_timeout_s,
        broker_heartbeat_interval=cfg.heartbeat_s,
        broker_rebalance_timeout=max(10.0, cfg.session_timeout_s * 2),
        broker_commit_interval=1.0,
        producer_acks=-1,
        table_standby_replicas=0,
        stream_recovery_delay=0.0,
        web_cors_options=None,
        # Only our views on the web port: Faust's table, router, graph, stats and index views would serve
        # table contents (recall holdings, emergency threads) to anyone. Metrics have their own port.
        web_tables_enabled=False, web_router_enabled=False, web_graph_enabled=False, web_stats_enabled=False,
        web_metrics_enabled=False,
        monitor=BatchOnlyMonitor(),
    )
    # With stats off Faust mounts its "production index" at / instead; we serve nothing at / at all.
    app.web.blueprints._enabled[:] = [(prefix, bp) for prefix, bp in app.web.blueprints._enabled
                                      if "production_index" not in str(bp)]
    return app
