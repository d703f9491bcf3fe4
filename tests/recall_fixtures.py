"""Made-up recall notices and holdings (fictional brands, GTINs with valid check digits)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from contracts.events import ProductHoldingsEvent, RecallPublishedEvent
from contracts.recall import RecallPublished
from contracts.registration import ProductHoldings

AT = datetime(2026, 11, 29, 2, 0, tzinfo=UTC)
SCOOTER_GTIN = "6901234567892"
OTHER_GTIN = "6901234567908"


def recall(**changes) -> RecallPublished:
    base = dict(recall_number="SAMR-2026-0042", published_on=date(2026, 11, 20), producer="示例玩具有限公司",
                product_name="儿童滑板车", product_kind="toy", brand="示例牌", model="HB-200", batch="20260601",
                barcode=SCOOTER_GTIN, hazard_type="机械伤害", hazard_description="折叠机构可能意外松脱。",
                remedy="停止使用，联系经销商免费更换。", risk_level="high")
    base.update(changes)
    return RecallPublished.model_validate({k: v for k, v in base.items() if v is not None})


def recall_event(id: str = "recall-ev-1", **changes) -> RecallPublishedEvent:
    return RecallPublishedEvent.new(recall(**changes), source="/test", id=id, time=AT)


def holdings(holder_id: str, *products: dict, kind: str = "guardian") -> ProductHoldings:
    return ProductHoldings.model_validate({"holder_kind": kind, "holder_id": holder_id, "updated_at": AT,
                                           "products": [{"registration_id": f"{holder_id}-R{i}", **p}
                                                        for i, p in enumerate(products)]})


def holdings_event(holder_id: str, *products: dict, kind: str = "guardian") -> ProductHoldingsEvent:
    return ProductHoldingsEvent.new(holdings(holder_id, *products, kind=kind), source="/test", id=f"h-{holder_id}",
                                    time=AT)
