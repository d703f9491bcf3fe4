"""Holdings of the partitions this worker owns, indexed by barcode, model and name for recall look-ups.

The Faust table ``recall-holdings`` (key: holder, value: ``[partition, kind, id, school, [product...]]``)
is the durable state; this index is derived from it, per partition, and rebuilt after table recovery.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from contracts.recall_match import Grade, Product, RecallKeys, holder_grade, product_keys
from contracts.registration import ProductHoldings


@dataclass(frozen=True, slots=True)
class Holding:
    partition: int
    holder_kind: str
    holder_id: str
    school_id: str | None
    products: tuple[Product, ...]

    @classmethod
    def of(cls, partition: int, h: ProductHoldings) -> Holding:
        products = tuple(Product.of(p.registration_id, p.product_name, p.brand, p.model, p.batch, p.barcode,
                                    p.produced_on) for p in h.products)
        return cls(partition, h.holder_kind.value, h.holder_id, h.school_id, products)

    def as_value(self) -> list:
        return [self.partition, self.holder_kind, self.holder_id, self.school_id, [p.as_list() for p in self.products]]

    @classmethod
    def from_value(cls, value: list) -> Holding:
        partition, kind, holder_id, school_id, products = value
        return cls(partition, kind, holder_id, school_id, tuple(Product.from_list(p) for p in products))

    @property
    def key(self) -> str:
        return f"{self.holder_kind}:{self.holder_id}"


@dataclass(frozen=True, slots=True)
class HolderMatch:
    holder_kind: str
    holder_id: str
    grade: Grade
    reason: str
    registration_ids: tuple[str, ...]


class HoldingsIndex:
    def __init__(self) -> None:
        self.holdings: dict[str, Holding] = {}
        self._by_key: dict[int, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))

    def put(self, holder_key: str, holding: Holding | None) -> None:
        old = self.holdings.pop(holder_key, None)
        if old is not None:
            index = self._by_key[old.partition]
            for product in old.products:
                for k in product_keys(product):
                    index[k].discard(holder_key)
                    if not index[k]:
                        del index[k]
        if holding is not None and holding.products:
            self.holdings[holder_key] = holding
            index = self._by_key[holding.partition]
            for product in holding.products:
                for k in product_keys(product):
                    index[k].add(holder_key)

    def rebuild(self, values: dict) -> None:
        self.holdings.clear()
        self._by_key.clear()
        for key, value in values.items():
            if value:
                self.put(key, Holding.from_value(value))

    def __len__(self) -> int:
        return len(self.holdings)

    def match(self, partition: int, keys: RecallKeys) -> list[HolderMatch]:
        """Every holder in ``partition`` with a graded product; each holder once, at its best grade."""
        index = self._by_key.get(partition, {})
        candidates: set[str] = set()
        for k in keys.index_keys():
            candidates |= index.get(k, set())
        matches = []
        for holder_key in sorted(candidates):
            h = self.holdings[holder_key]
            if (graded := holder_grade(keys, h.products)) is not None:
                matches.append(HolderMatch(h.holder_kind, h.holder_id, *graded))
        return matches
