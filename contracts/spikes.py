"""The outbreak count's internal record: a report of a spike kind, forwarded by the per-school count (inside the
triage agent) to the per-district count, on the streams worker's `spike-districts` topic keyed by district."""

from __future__ import annotations

import json
import math

from pydantic import Field, ValidationError, field_validator

from contracts.common import Contract, DistrictCode
from contracts.errors import ContractError, FieldError
from contracts.incident import IncidentCategory

LEGACY_FIELDS = ("report_id", "kind", "district_code", "occurred_at_s", "children")
"""The order of the JSON list written before this contract (records still on the topic after an upgrade)."""


class SpikeReportForwarded(Contract):
    report_id: str = Field(min_length=1, max_length=200)
    kind: IncidentCategory
    district_code: DistrictCode
    occurred_at_s: float = Field(description="when it happened, epoch seconds")
    children: int = Field(default=1, ge=1, description="children affected (records without it count one)")

    @field_validator("occurred_at_s")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number of seconds")
        return value

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes | None) -> SpikeReportForwarded:
        """Parse a record, or raise ContractError naming the field and why."""
        try:
            data = json.loads(raw or b"")
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContractError([FieldError("(body)", f"not JSON: {exc}", (raw or b"")[:80].decode(errors="replace"))]) from None
        if isinstance(data, list):
            if not 4 <= len(data) <= 5:
                raise ContractError([FieldError("(body)", f"expected [{', '.join(LEGACY_FIELDS)}]", str(data)[:80])])
            data = dict(zip(LEGACY_FIELDS, data, strict=False))
        if not isinstance(data, dict):
            raise ContractError([FieldError("(body)", "expected a JSON object", type(data).__name__)])
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise ContractError([FieldError(".".join(str(p) for p in e["loc"]) or "(body)", e["msg"],
                                            str(e.get("input"))[:80]) for e in exc.errors(include_url=False)]) from None
