"""Real workers as subprocesses, and reading topics back, for the integration tests."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
from kafka import KafkaProducer

from consumers.kafka_io import AcknowledgedProducer
from contracts.topics import ALERTS_REQUESTED
from ops.kafka_local import free_port
from ops.processes import ChildProcess
from ops.settings import Settings
from ops.topic_reader import read_topic  # noqa: F401  (tests import it from here)


class StreamsWorker(ChildProcess):
    def __init__(self, bootstrap: str, namespace: str, run_dir: Path, token: str | None = None):
        """Without a token the intake runs open on loopback (CHILDSAFE_INTAKE_INSECURE_LOCAL); with one, the
        caller has issued it into ``run_dir``'s intake-tokens.json."""
        self.port = free_port()
        self.metrics_port = free_port()  # /metrics is not on the intake port
        self.token = token
        env = {"CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": namespace,
               "CHILDSAFE_WEB_PORT": str(self.port), "CHILDSAFE_RUN_DIR": str(run_dir),
               "CHILDSAFE_STREAMS_METRICS_PORT": str(self.metrics_port)}
        if not token:
            env["CHILDSAFE_INTAKE_INSECURE_LOCAL"] = "1"
        super().__init__(["worker"], env, run_dir / f"worker-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: bytes | dict, headers: dict | None = None, token: str | None = "default"):
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        bearer = self.token if token == "default" else token
        if bearer:
            hdrs["Authorization"] = f"Bearer {bearer}"
        return httpx.post(self.url + path, content=content, headers=hdrs, timeout=30)

    def wait_http(self, timeout: float = 60) -> float:
        return super().wait_http(self.url + "/health", timeout)


class CheckedProducer:
    """A test's Kafka producer that checks every send: ``flush`` (and ``close``) wait for every future and raise
    naming the records the broker did not take, so a lost *test send* is never mistaken for a lost report."""

    def __init__(self, bootstrap: str, **extra):
        options = dict(acks="all", enable_idempotence=True, linger_ms=5)
        options.update(extra)
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, **options)
        self.pending: list = []

    def send(self, topic: str, key: bytes | None = None, value: bytes | None = None):
        future = self.producer.send(topic, key=key, value=value)
        self.pending.append((topic, key, future))
        return future

    def flush(self, timeout: float = 60.0) -> int:
        """Wait for every send so far; returns how many were acknowledged, raises if any was not."""
        self.producer.flush(timeout)
        pending, self.pending = self.pending, []
        failed = []
        for topic, key, future in pending:
            try:
                future.get(timeout)
            except Exception as exc:  # the broker did not take it: the test's own send failed
                failed.append(f"{topic} key={key!r}: {exc!r}")
        if failed:
            raise AssertionError(f"{len(failed)} of {len(pending)} test sends were not acknowledged: {failed[:5]}")
        return len(pending)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.producer.close()


def producer(bootstrap: str, **extra) -> CheckedProducer:
    return CheckedProducer(bootstrap, **extra)
def settings_for(kafka_bootstrap, namespace, db_url, sandbox, callback_base="http://127.0.0.1:9", **extra) -> Settings:
    return Settings(bootstrap_servers=kafka_bootstrap, topic_namespace=namespace, database_url=db_url,
                    twilio_base_url=sandbox.url, twilio_account_sid=sandbox.account_sid,
                    twilio_auth_token=sandbox.auth_token, sms_callback_base_url=callback_base,
                    sms_consumer_session_timeout_ms=6000, sms_rate_per_s=100_000, **extra)


def publish(kafka_bootstrap, namespace, *events) -> None:
    producer = AcknowledgedProducer(kafka_bootstrap, "tests")
    for event in events:
        producer.send(ALERTS_REQUESTED.name(namespace), event.data.alert_id.encode(), event.to_bytes())
    producer.flush()
    producer.close()


class SmsWorkers:
    """The fan-out and the dispatcher (with its cancellation consumer) polled in turn on one thread."""

    def __init__(self, settings):
        from ops.bootstrap import build_dispatch, build_fanout

        self.stop = threading.Event()
        self.fanout, self.dispatch = build_fanout(settings, self.stop), build_dispatch(settings, self.stop)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            self.fanout.poll_once(timeout_ms=50)
            self.dispatch.poll_once(timeout_ms=50)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(30)
        self.dispatch.close()
        self.fanout.consumer.close()
