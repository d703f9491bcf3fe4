"""Process-level metrics: serving /metrics, consumer lag per group and partition, and the metric catalogue.

Where metrics are declared: each layer declares its own, once, beside the code that records them
(streams/metrics.py, consumers/metrics.py, this module), because streams/ and consumers/ may not
import ops/ and contracts/ stays pure. `catalogue()` imports them all so one lint test checks every
name, help text, unit and label.
"""

from __future__ import annotations

import logging

from prometheus_client import REGISTRY, Gauge, start_http_server
from prometheus_client.core import GaugeMetricFamily

log = logging.getLogger(__name__)

PROCESS_INFO = Gauge("childsafe_process_info", "Always 1 while a ChildSafe process runs, by role.", ["role"])
LAG_SCRAPE_ERRORS = Gauge("childsafe_consumer_lag_scrape_errors", "1 when the last lag read from Kafka failed.")


def serve(role: str, port: int, host: str = "127.0.0.1") -> None:
    """Serve the default registry on ``host:port/metrics`` from a daemon thread (port 0 = don't serve)."""
    PROCESS_INFO.labels(role).set(1)
    if not port:
        return
    try:
        start_http_server(port, addr=host)
    except OSError as exc:  # the work matters more than its metrics; ChildSafeWorkerDown will say so
        log.error("metrics port unavailable; running without /metrics", extra={"role": role, "port": port,
                                                                              "error": str(exc)})
        return
    log.info("metrics served", extra={"role": role, "port": port})


class ConsumerLagCollector:
    """Committed offset vs end offset for each partition of each group, read from Kafka at scrape time."""

    def __init__(self, bootstrap: str, groups: list[str], namespace: str):
        self.bootstrap, self.groups, self.namespace = bootstrap, groups, namespace
        self._admin = self._consumer = None

    def describe(self):
        return []

    def _clients(self):
        from kafka import KafkaAdminClient, KafkaConsumer

        if self._admin is None:
            self._admin = KafkaAdminClient(bootstrap_servers=self.bootstrap, client_id="childsafe-lag")
            self._consumer = KafkaConsumer(bootstrap_servers=self.bootstrap, client_id="childsafe-lag",
                                           enable_auto_commit=False)
        return self._admin, self._consumer

    def lag(self) -> list[tuple[str, str, int, int]]:
        """(group, topic, partition, lag) for every partition a group has committed offsets on."""
        admin, consumer = self._clients()
        out = []
        for group, offsets in admin.list_group_offsets(list(self.groups)).items():
            committed = {tp: om.offset for tp, om in (offsets or {}).items()
                         if om is not None and om.offset >= 0 and tp.topic.startswith(self.namespace + ".")}
            if not committed:
                continue
            ends = consumer.end_offsets(list(committed))
            out.extend((group, tp.topic, tp.partition, max(0, ends[tp] - offset)) for tp, offset in committed.items())
        return out

    def collect(self):
        family = GaugeMetricFamily("childsafe_consumer_lag_messages", "Messages not yet committed by a consumer "
                                   "group, per topic suffix and partition.", labels=["group", "topic", "partition"])
        try:
            rows = self.lag()
            LAG_SCRAPE_ERRORS.set(0)
        except Exception as exc:  # a scrape must answer even when Kafka does not
            log.warning("reading consumer lag failed", extra={"error": f"{type(exc).__name__}: {exc}"[:300]})
            LAG_SCRAPE_ERRORS.set(1)
            rows = []
        for group, topic, partition, lag in rows:
            family.add_metric([group, topic.split(".", 1)[1], str(partition)], lag)
        yield family


def catalogue() -> dict[str, object]:
    """Every metric family ChildSafe declares (name → prometheus_client metric), for the lint and dashboard tests."""
    import consumers.metrics  # noqa: F401
    import contracts.dlq  # noqa: F401  (the dead-letter counter every layer records)
    import streams.metrics  # noqa: F401

    found = {}
    for module in (consumers.metrics, streams.metrics, contracts.dlq, __import__(__name__, fromlist=["x"])):
        for value in vars(module).values():
            if hasattr(value, "_name") and hasattr(value, "_documentation") and hasattr(value, "_type"):
                found[value._name] = value
    return found


COLLECTED = {  # families produced by collectors at scrape time: name → (type, help is asserted in tests)
    "childsafe_cases_open": "gauge", "childsafe_case_duties_met": "counter",
    "childsafe_case_duties_breached": "counter", "childsafe_case_duties_overdue": "gauge",
    "childsafe_consumer_lag_messages": "gauge",
}


def serve_exporter(settings, stop) -> None:
    """`childsafe exporter`: consumer lag and case-store gauges, one process for what no single worker owns."""
    from consumers.metrics import CaseStoreCollector
    from consumers.store.db import make_engine, session_factory
    from contracts.clock import SystemClock

    ns = settings.topic_namespace
    from ops.bootstrap import DISPATCH_GROUP, FANOUT_GROUP, sms_group

    groups = [f"{ns}-streams", f"{ns}.cases", sms_group(ns, FANOUT_GROUP), sms_group(ns, DISPATCH_GROUP),
              *settings.extra_groups]
    REGISTRY.register(ConsumerLagCollector(settings.bootstrap_servers, groups, ns))
    engine = make_engine(settings.db_url())
    REGISTRY.register(CaseStoreCollector(session_factory(engine), SystemClock()))
    serve("exporter", settings.exporter_port, settings.metrics_host)
    stop.wait()
    engine.dispose()
