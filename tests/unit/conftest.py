"""Fixtures of the unit tests (no services)."""

from __future__ import annotations

import pytest

from tests.agents import streams_app


@pytest.fixture()
def harness():
    """The streams app with its agents on a fake writer and a fake clock: (app, writer, clock)."""
    return streams_app()


@pytest.fixture()
def world(db_url, tmp_path):
    """A dispatcher over the real ledger with a fake gateway and clock: (engine, clock, gateway, ledger, dispatcher)."""
    from tests.sms_world import dispatch_world

    yield from dispatch_world(db_url, tmp_path)
