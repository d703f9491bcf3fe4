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
UNIT = ROOT / "tests" / "unit"
NOT_UNIT = ("postgres", "integration", "faults", "realtime")  # a service, or the wall clock and child processes


def pytest_collection_modifyitems(config, items):
    """Mark ``unit`` each test of tests/unit that needs no service and runs on no wall clock (none of the NOT_UNIT
    markers): `make unit` runs exactly these, on several workers (pytest-xdist); `make test` runs them so first,
    then everything else."""
    for item in items:
        if item.path.is_relative_to(UNIT) and not any(item.get_closest_marker(m) for m in NOT_UNIT):
            item.add_marker(pytest.mark.unit)


@pytest.fixture(autouse=True)
def no_dead_letter_keyring_between_tests():
    """A worker run in-process seals dead letters with its keyring (process-wide): never carry it to the next test."""
    from contracts.deadletter import seal_originals_with

    seal_originals_with(None)
    yield
    seal_originals_with(None)


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


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the run's one PostgreSQL server (Debian's package), started here on a free port."""
    external = os.environ.get("CHILDSAFE_TEST_POSTGRES_URL")
    if external:
        yield external
        return
    from ops.pg_local import LocalPostgres

    server = LocalPostgres(port=free_port())
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def migrated_sqlite() -> Path:
    """The SQLite database migrated to the head revisions once per process (per xdist worker); each test gets a copy,
    so Alembic runs once, not before every store test (the migrations' own tests run them every time)."""
    from tests.databases import migrated_template

    return migrated_template()


@pytest.fixture()
def sqlite_url(migrated_sqlite, tmp_path) -> str:
    """A fresh, migrated SQLite database for a test that runs on SQLite only."""
    from tests.databases import sqlite_copy

    return sqlite_copy(migrated_sqlite, tmp_path / "childsafe.db")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> str:
    """Run a store test on SQLite and on PostgreSQL: a fresh, migrated database each time."""
    from tests.databases import fresh_postgres_database, sqlite_copy

    if request.param == "postgresql":
        return fresh_postgres_database(request.getfixturevalue("postgres_url"))
    return sqlite_copy(request.getfixturevalue("migrated_sqlite"), tmp_path / "childsafe.db")


@pytest.fixture()
def sms_sandbox():
    """A local Twilio-compatible sandbox on a free port (alerts.sandbox), fast status steps, stopped after."""
    from alerts.sandbox import FaultPlan, SmsSandbox

    sandbox = SmsSandbox(faults=FaultPlan(), step_seconds=0.01).start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture()
def captured_logs():
    """This process's logging through the real configuration (ops/logs.py), into a buffer to search."""
    import io
    import logging.config

    from ops.logs import dict_config

    stream = io.StringIO()
    config = dict_config("INFO", "json")
    config["handlers"]["default"]["stream"] = stream
    logging.config.dictConfig(config)
    yield stream
    logging.config.dictConfig(dict_config("INFO", "json"))
