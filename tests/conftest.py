"""Test session services: one real Kafka broker per run (started here, stopped at the end).

Set CHILDSAFE_TEST_BOOTSTRAP to use a broker you already run instead.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

from ops.kafka_local import LocalKafka, free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory) -> str:
    """Bootstrap servers of the run's one broker, on free ports so parallel runs never collide."""
    external = os.environ.get("CHILDSAFE_TEST_BOOTSTRAP")
    if external:
        yield external
        return
    broker = LocalKafka(run_dir=tmp_path_factory.mktemp("kafka"), port=free_port(), controller_port=free_port())
    broker.up(timeout=90)
    try:
        yield broker.bootstrap
    finally:
        broker.down()


@pytest.fixture()
def namespace() -> str:
    """A fresh topic namespace per test, so tests sharing the broker never see each other's messages."""
    return f"t{uuid.uuid4().hex[:10]}"
