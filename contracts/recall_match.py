"""Grade how surely a registered product is the recalled one, on whatever identifiers both sides carry.

exact  — same barcode and same batch;
strong — same barcode (holder's batch unknown), or same brand and model;
weak   — same model with a brand missing on one side, or same product name only: listed for review,
         never alerted automatically.
A conflicting identifier present on both sides (another barcode, batch, brand, or a production date outside
the recalled range) rules the product out: look-alikes are not recalled products.

Pure and shared: the streams worker grades every holder with it (streams/recalls/), and the console's recall
preview (console/recalls.py) counts the reach of a recall before it is published with the very same rules.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from contracts.alert_request import AlertKind
from contracts.alert_slots import alert_params
from contracts.recall import RecallPublished

_NOISE = re.compile(r"[\s\-_./·,，。()（）\[\]【】'\"]+")


class Grade(IntEnum):
    WEAK = 1
    STRONG = 2
    EXACT = 3


def norm(text: str | None) -> str | None:
    """Full-width → half-width, case-folded, spaces and punctuation dropped: 'XB-200 ' == 'ｘｂ２００'."""
    if not text:
        return None
    cleaned = _NOISE.sub("", unicodedata.normalize("NFKC", text).casefold())
    return cleaned or None


def gtin14(code: str | None) -> str | None:
    """UPC-A, EAN-13 and GTIN-14 of one trade item compare equal once left-padded to 14 digits."""
    return code.zfill(14) if code else None


@dataclass(frozen=True, slots=True)
class Product:
    """A registered product in the compact form kept in the holdings table (identifiers normalised)."""

    registration_id: str
    name: str | None
    brand: str | None
    model: str | None
    batch: str | None
    barcode: str | None
    produced_on: str | None

    @classmethod
    def of(cls, registration_id: str, name: str | None, brand: str | None = None, model: str | None = None,
           batch: str | None = None, barcode: str | None = None, produced_on: date | str | None = None) -> Product:
        day = produced_on.isoformat() if isinstance(produced_on, date) else produced_on
        return cls(registration_id, norm(name), norm(brand), norm(model), norm(batch), gtin14(barcode), day)

    def as_list(self) -> list:
        return [self.registration_id, self.name, self.brand, self.model, self.batch, self.barcode, self.produced_on]

    @classmethod
    def from_list(cls, values: list) -> Product:
        return cls(*values)


@dataclass(frozen=True, slots=True)
class RecallKeys:
    """The recall's identifiers, normalised once per recall."""

    name: str | None
    brand: str | None
    model: str | None
    batch: str | None
    barcode: str | None
    produced_from: str | None
    produced_to: str | None

    @classmethod
    def of(cls, recall: RecallPublished) -> RecallKeys:
        return cls(norm(recall.product_name), norm(recall.brand), norm(recall.model), norm(recall.batch),
                   gtin14(recall.barcode), recall.production_from and recall.production_from.isoformat(),
                   recall.production_to and recall.production_to.isoformat())

    def index_keys(self) -> list[str]:
        """The index entries worth looking up for this recall (see ``product_keys``)."""
        keys = []
        if self.barcode:
            keys.append("b:" + self.barcode)
        if self.model:
            keys.append("m:" + self.model)
        if self.name:  # with a model named, only model-less products can match on name (weak)
            keys.append(("n0:" if self.model else "n:") + self.name)
        return keys


def product_keys(p: Product) -> list[str]:
    """Index entries of one product: barcode, model (brand+model and model-only grades), name, and name for
    model-less products (so a recall naming a model never scans every product that merely shares its name)."""
    keys = []
    if p.barcode:
        keys.append("b:" + p.barcode)
    if p.model:
        keys.append("m:" + p.model)
    if p.name:
        keys.append("n:" + p.name)
        if not p.model:
            keys.append("n0:" + p.name)
    return keys


def _conflict(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a != b


def grade(r: RecallKeys, p: Product) -> tuple[Grade, str] | None:
    """The grade and why, or None when the product is not (or provably not) the recalled one."""
    if _conflict(r.barcode, p.barcode):
        return None
    if _conflict(r.batch, p.batch) or _conflict(r.brand, p.brand):
        return None
    if p.produced_on and ((r.produced_from and p.produced_on < r.produced_from)
                          or (r.produced_to and p.produced_on > r.produced_to)):
        return None
    if r.barcode and r.barcode == p.barcode:
        if r.batch and r.batch == p.batch:
            return Grade.EXACT, "barcode and batch"
        return Grade.STRONG, "barcode" + ("" if not r.batch else ", holder's batch unknown")
    if r.model and r.model == p.model:
        if r.brand and r.brand == p.brand:
            return Grade.STRONG, "brand and model"
        return Grade.WEAK, "model only (brand missing)"
    if r.name and r.name == p.name and not (r.model and p.model):
        return Grade.WEAK, "product name only"
    return None


def holder_grade(r: RecallKeys, products) -> tuple[Grade, str, tuple[str, ...]] | None:
    """One holder's best grade over its products, the reason, and the registrations at that grade; or None."""
    graded = [(g, p.registration_id) for p in products if (g := grade(r, p)) is not None]
    if not graded:
        return None
    best = max(g[0] for g, _ in graded)
    reason = next(g[1] for g, _ in graded if g[0] == best)
    return best, reason, tuple(rid for g, rid in graded if g[0] == best)


RECALL_FIELDS = {"product": "data.product_name", "hazard": "data.hazard_type", "recall_number": "data.recall_number",
                 "remedy": "data.remedy", "model": "data.model"}


def recall_alert_params(r: RecallPublished) -> dict[str, str]:
    """The recall alert's parameters, normalised; a ContractError names the notice's field that cannot compose."""
    return alert_params(AlertKind.RECALL, {"product": r.product_name, "hazard": r.hazard_type,
                                           "recall_number": r.recall_number, "remedy": r.remedy,
                                           "action": r.action.value, "model": r.model}, sources=RECALL_FIELDS)
