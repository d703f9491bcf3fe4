"""Recall matching over realistic notices with missing identifiers; look-alikes must not match."""

from __future__ import annotations

import pytest

from contracts.alert_request import RecallHolders
from contracts.codec import decode
from contracts.events import AlertCancelledEvent, AlertRequestedEvent, AuditRecordedEvent
from contracts.recall_match import Grade, RecallKeys
from streams.recalls.holdings import Holding, HoldingsIndex
from streams.recalls.plan import plan
from tests.recall_fixtures import AT, OTHER_GTIN, SCOOTER_GTIN, holdings, recall, recall_event

SCOOTER = {"product_name": "儿童滑板车", "brand": "示例牌", "model": "HB-200", "batch": "20260601",
           "barcode": SCOOTER_GTIN, "product_kind": "toy"}


def _index(*hs, partition: int = 0) -> HoldingsIndex:
    index = HoldingsIndex()
    for h in hs:
        index.put(h.holder_key, Holding.of(partition, h))
    return index


def _grades(notice, *products) -> dict[str, Grade]:
    index = _index(*[holdings(f"G{i}", p) for i, p in enumerate(products)])
    return {m.holder_id: m.grade for m in index.match(0, RecallKeys.of(notice))}


def test_full_identifiers_grade_exact_and_batch_unknown_strong():
    notice = recall()
    grades = _grades(notice, SCOOTER, {**SCOOTER, "batch": None})
    assert grades == {"G0": Grade.EXACT, "G1": Grade.STRONG}


@pytest.mark.parametrize("missing, holder, expected", [
    # the regulator had no barcode: brand + model carries it
    ({"barcode": None}, {"barcode": None}, Grade.STRONG),
    # no brand on the notice: model alone is only weak (for review)
    ({"barcode": None, "brand": None}, {"barcode": None}, Grade.WEAK),
    # no batch on the notice: every batch of that barcode is affected
    ({"batch": None}, {"batch": "20251231"}, Grade.STRONG),
    # nothing but the product name on either side
    ({"barcode": None, "brand": None, "model": None, "batch": None},
     {"barcode": None, "brand": None, "model": None, "batch": None}, Grade.WEAK),
    # the holder registered only a name: a recall naming a model still lists it for review
    ({}, {"barcode": None, "brand": None, "model": None, "batch": None}, Grade.WEAK),
    # holder wrote the model differently (full-width, lower case, spaces)
    ({"barcode": None}, {"barcode": None, "model": "ｈｂ 200", "brand": " 示例牌 "}, Grade.STRONG),
    # UPC/EAN of the same trade item: 13 digits on one side, GTIN-14 on the other
    ({}, {"barcode": "0" + SCOOTER_GTIN}, Grade.EXACT),
])
def test_missing_identifiers_match_on_what_is_present(missing, holder, expected):
    assert _grades(recall(**missing), {**SCOOTER, **holder}) == {"G0": expected}


@pytest.mark.parametrize("look_alike", [
    {"barcode": OTHER_GTIN},                         # same brand and model, another trade item
    {"batch": "20260602"},                           # same product, a batch not recalled
    {"brand": "示列牌"},                              # a near-identical brand (one character differs)
    {"model": "HB-2000", "barcode": None},           # a model name that only starts the same
    {"model": "HB-200S", "barcode": None, "batch": None},
    {"product_name": "儿童滑板车", "brand": "另一牌", "model": None, "barcode": None, "batch": None},
    {"produced_on": "2026-07-15"},                   # made after the recalled production range
])
def test_look_alikes_do_not_match(look_alike):
    notice = recall(production_from="2026-05-01", production_to="2026-06-30")
    assert _grades(notice, {**SCOOTER, **look_alike}) == {}


def test_name_only_notice_is_weak_at_best_and_another_name_is_no_match():
    notice = recall(barcode=None, brand=None, model=None, batch=None)
    assert _grades(notice, {**SCOOTER, "barcode": None, "brand": None, "model": "Q-1"}) == {"G0": Grade.WEAK}
    assert _grades(notice, {**SCOOTER, "product_name": "儿童滑板车（折叠款）"}) == {}


def test_each_holder_once_at_best_grade_and_only_in_its_partition():
    h = holdings("G1", SCOOTER, {**SCOOTER, "batch": None})
    index = HoldingsIndex()
    index.put(h.holder_key, Holding.of(3, h))
    [m] = index.match(3, RecallKeys.of(recall()))
    assert m.grade is Grade.EXACT and m.registration_ids == ("G1-R0",)
    assert index.match(0, RecallKeys.of(recall())) == []
    index.put(h.holder_key, None)
    assert index.match(3, RecallKeys.of(recall())) == [] and len(index) == 0


def test_plan_alerts_schools_and_guardians_lists_weak_for_review_only():
    index = _index(holdings("SCH-A", SCOOTER, kind="school"), holdings("G1", {**SCOOTER, "batch": None}),
                   holdings("G2", {"product_name": "儿童滑板车"}))
    event = recall_event(brand=None, barcode=None)  # model only → weak; nothing strong
    out = plan(event, 0, index.match(0, RecallKeys.of(event.data)), [], AT)
    assert out.alert_ids == []
    [audit] = [decode(o.value, AuditRecordedEvent).data for o in out.outputs]
    assert audit.outcome == "review" and audit.details["weak"] == 3 and len(audit.details["review"]) == 3

    event = recall_event()
    out = plan(event, 0, index.match(0, RecallKeys.of(event.data)), [], AT)
    alerts = [decode(o.value, AlertRequestedEvent).data for o in out.outputs if o.topic.suffix == "alerts.requested.v1"]
    assert [(a.audience.school_ids, a.audience.guardian_ids) for a in alerts] == [(["SCH-A"], []), ([], ["G1"])]
    assert all(isinstance(a.audience, RecallHolders) and a.params["recall_number"] == "SAMR-2026-0042"
               for a in alerts)


def test_update_supersedes_and_withdrawal_cancels_pending_alerts():
    index = _index(holdings("G1", SCOOTER))
    first = recall_event("n1")
    published = plan(first, 0, index.match(0, RecallKeys.of(first.data)), [], AT)
    again = plan(first, 0, index.match(0, RecallKeys.of(first.data)), published.alert_ids, AT)
    assert again.alert_ids == published.alert_ids, "a redelivered notice yields the same alert ids"
    assert not [o for o in again.outputs if o.topic.suffix == "alerts.cancelled.v1"]

    update = recall_event("n2", action="updated", remedy="到店退款。")
    updated = plan(update, 0, index.match(0, RecallKeys.of(update.data)), published.alert_ids, AT)
    cancelled = [decode(o.value, AlertCancelledEvent).data.alert_id for o in updated.outputs
                 if o.topic.suffix == "alerts.cancelled.v1"]
    assert cancelled == published.alert_ids and updated.alert_ids and updated.alert_ids != published.alert_ids

    withdrawal = recall_event("n3", action="withdrawn")
    withdrawn = plan(withdrawal, 0, [], updated.alert_ids, AT)
    cancelled = [decode(o.value, AlertCancelledEvent).data for o in withdrawn.outputs
                 if o.topic.suffix == "alerts.cancelled.v1"]
    assert [c.alert_id for c in cancelled] == updated.alert_ids and cancelled[0].reason == "recall withdrawn"
    assert withdrawn.alert_ids == []


def test_large_holder_sets_are_chunked():
    index = _index(*[holdings(f"G{i:04d}", SCOOTER) for i in range(25)])
    event = recall_event()
    out = plan(event, 0, index.match(0, RecallKeys.of(event.data)), [], AT, holders_per_alert=10)
    assert len(out.alert_ids) == 3
