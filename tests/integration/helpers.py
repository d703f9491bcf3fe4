"""Running real workers as subprocesses and reading topics back, for the integration tests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from kafka import KafkaConsumer, KafkaProducer, TopicPartition

from ops.kafka_local import free_port


class WorkerProcess:
    """`childsafe <command>` in a subprocess, with its own settings, killable like in production."""

    def __init__(self, args: list[str], env: dict[str, str], log_path: Path):
        self.args = args
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([sys.executable, "-m", "ops", *self.args], env=self.env,
                                     stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, no final commit."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""


class StreamsWorker(WorkerProcess):
    def __init__(self, bootstrap: str, namespace: str, run_dir: Path, token: str = "test-intake-token"):
        self.port = free_port()
        self.token = token
        env = {"CHILDSAFE_BOOTSTRAP_SERVERS": bootstrap, "CHILDSAFE_TOPIC_NAMESPACE": namespace,
               "CHILDSAFE_WEB_PORT": str(self.port), "CHILDSAFE_RUN_DIR": str(run_dir),
               "CHILDSAFE_INTAKE_TOKENS": token}
        super().__init__(["worker"], env, run_dir / f"worker-{self.port}.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def post(self, path: str, body: bytes | dict, headers: dict | None = None, token: str | None = "default"):
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        if token:
            hdrs["Authorization"] = f"Bearer {self.token if token == 'default' else token}"
        return httpx.post(self.url + path, content=content, headers=hdrs, timeout=30)

    def wait_http(self, timeout: float = 60) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc and self.proc.poll() is not None:
                raise RuntimeError(f"worker exited {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"worker HTTP not up in {timeout}s:\n{self.log_tail()}")


def producer(bootstrap: str) -> KafkaProducer:
    return KafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)


def read_topic(bootstrap: str, topic: str, *, until: Callable[[list], bool] | None = None,
               timeout: float = 60.0, settle: float = 0.0) -> list:
    """All records of ``topic`` from the beginning; waits until ``until(records)`` holds (or timeout).
    ``settle`` keeps reading that many seconds longer, to catch records that should NOT appear."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=500)
    try:
        parts = consumer.partitions_for_topic(topic) or set()
        deadline = time.monotonic() + timeout
        while not parts and time.monotonic() < deadline:
            time.sleep(0.2)
            parts = consumer.partitions_for_topic(topic) or set()
        tps = [TopicPartition(topic, p) for p in sorted(parts)]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        records: list = []
        satisfied_at = None
        while time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=300).values():
                records.extend(batch)
            if until is None or until(records):
                satisfied_at = satisfied_at or time.monotonic()
                if time.monotonic() - satisfied_at >= settle:
                    return records
        return records
    finally:
        consumer.close()
