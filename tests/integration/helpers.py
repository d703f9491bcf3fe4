"""Real workers as subprocesses, and reading topics back, for the integration tests."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from kafka import KafkaProducer

from ops.kafka_local import free_port
from ops.processes import ChildProcess
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


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
