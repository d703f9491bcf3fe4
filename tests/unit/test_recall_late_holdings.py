"""A recall is matched against holdings that arrive after it: the holder is told once, by its own alert,
whether its holdings arrive before, after, or again after the recall; a withdrawn recall matches nobody new."""

from __future__ import annotations

import pytest

from contracts.codec import decode
from contracts.events import AlertRequestedEvent
from contracts.recall import RecallAction
from tests.agents import handle_all, streams_app
from tests.recall_fixtures import SCOOTER_GTIN, holdings_event, recall_event

SCOOTER = {"product_name": "儿童滑板车", "brand": "示例牌", "model": "HB-200", "batch": "20260601",
           "barcode": SCOOTER_GTIN}
OTHER = {"product_name": "儿童水杯", "brand": "另一牌", "model": "CUP-1", "barcode": "6901234567908"}


@pytest.fixture()
def harness():
    runtime, writer, _ = streams_app()
    app = runtime.app
    return app, writer


async def feed(app, agent_name: str, messages):
    await handle_all(app, agent_name, messages, partition=0)


def told(writer) -> dict[str, list[str]]:
    """guardian id → the recall alerts that name it."""
    out: dict[str, list[str]] = {}
    for o in writer.on("alerts.requested.v1"):
        alert = decode(o.value, AlertRequestedEvent).data
        for gid in getattr(alert.audience, "guardian_ids", []) or []:
            out.setdefault(gid, []).append(alert.alert_id)
    return out


def holdings(gid: str, *products) -> tuple[bytes, bytes]:
    return f"guardian:{gid}".encode(), holdings_event(gid, *products).to_bytes()


async def test_holdings_that_arrive_after_the_recall_are_matched_once(harness):
    app, writer = harness
    await feed(app, "recall-holdings", [holdings("G-EARLY", SCOOTER)])
    await feed(app, "recall-match", [(b"SAMR-1", recall_event("ev-1").to_bytes())])
    await feed(app, "recall-holdings", [holdings("G-LATE", SCOOTER), holdings("G-UNRELATED", OTHER),
                                        holdings("G-LATE", SCOOTER, OTHER),  # the late holder registers again
                                        holdings("G-EARLY", SCOOTER, OTHER)])  # so does the early one
    await feed(app, "recall-match", [(b"SAMR-1", recall_event("ev-1").to_bytes())])  # the probe redelivered
    got = told(writer)
    assert set(got) == {"G-EARLY", "G-LATE"}
    assert len(set(got["G-LATE"])) == 1, "the late holder is told once, by its own alert"
    assert set(got["G-EARLY"]).isdisjoint(got["G-LATE"])
    assert len(set(got["G-EARLY"])) == 1, "a holder told by the recall itself is not told again as 'late'"


async def test_a_withdrawn_recall_matches_no_later_holdings(harness):
    app, writer = harness
    await feed(app, "recall-match", [(b"SAMR-1", recall_event("ev-1").to_bytes()),
                                     (b"SAMR-1", recall_event("ev-2", action=RecallAction.WITHDRAWN).to_bytes())])
    await feed(app, "recall-holdings", [holdings("G-AFTER", SCOOTER)])
    assert told(writer) == {}
