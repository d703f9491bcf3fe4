"""The SMS side's shared test data: clock instants, jobs, requests, and a dispatcher over the real ledger."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from consumers.sms.backoff import Backoff
from consumers.sms.cancellation_book import CancellationBook
from consumers.sms.dispatcher import DispatchSettings, SmsDispatcher
from consumers.sms.jobs import dedup_key
from consumers.sms.ledger import SmsLedger
from consumers.store.db import make_engine
from consumers.store.sms_ledger import SmsLedgerEntry
from contracts.alert_request import AlertRequested
from contracts.clock import FakeClock
from contracts.common import Priority
from contracts.events import AlertRequestedEvent
from contracts.sms import SmsJob
from tests import sms_directory
from tests.fakes import FakeSmsGateway, guard

DAYTIME = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
NIGHT = datetime(2026, 11, 29, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai


def job(recipient: str, to: str, priority=Priority.URGENT, alert="A1", **extra) -> SmsJob:
    return SmsJob(dedup_key=dedup_key(alert, recipient), alert_id=alert, recipient_id=recipient, to=to,
                  body="【儿童安全】测试消息", priority=priority, segments=1, **extra)


def dispatch_world(db_url: str, tmp_path: Path) -> Iterator[tuple]:
    """A loaded directory, a fake clock and gateway, the real ledger and dispatcher; closed after."""
    engine = make_engine(db_url)
    sms_directory.load(engine, tmp_path / "dir")
    clock = FakeClock(DAYTIME)
    gateway = FakeSmsGateway()
    ledger = SmsLedger(engine, clock)
    settings = DispatchSettings(lease_s=30, reconcile_delay_s=2, backoff=Backoff(base_s=1, cap_s=8, max_attempts=4),
                                concurrency=2)
    dispatcher = SmsDispatcher(ledger, gateway, clock, settings, cancellations=CancellationBook(engine, clock),
                               rng=random.Random(1), owner="dispatcher-test", guard=guard("sms-dispatch"))
    yield engine, clock, gateway, ledger, dispatcher
    dispatcher.close()
    engine.dispose()


def states(engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.recipient_id: r.state for r in conn.execute(SmsLedgerEntry.__table__.select())}


def request(alert_id: str, audience, **extra) -> AlertRequestedEvent:
    alert = AlertRequested(alert_id=alert_id, kind="cap_emergency", priority="emergency", audience=audience,
                           params={"area": "测试区", "event": "暴雨", "msg_type": "Alert", "status": "Actual"},
                           source_event_id=f"ev-{alert_id}", reason="unit test", **extra)
    return AlertRequestedEvent.new(alert, source="/tests", subject=alert_id)
