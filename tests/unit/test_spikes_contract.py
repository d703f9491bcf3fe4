"""The spikes agent's internal record has a contract (contracts/spikes.py): it round-trips, the list written before
the contract still reads, and anything else is refused with the field named, never a crash."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.errors import ContractError
from contracts.spikes import SpikeReportForwarded

NASTY = st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode),
                  st.sampled_from(["\u200b", "\u202e310115", "３１０１１５", "😀", "\n", "", "x" * 100_000]).map(str.encode))


def test_a_record_round_trips():
    record = SpikeReportForwarded(report_id="r-1", kind="food_poisoning", district_code="310115",
                                  occurred_at_s=1_790_000_000.5, children=4)
    assert SpikeReportForwarded.from_bytes(record.to_bytes()) == record


def test_the_list_written_before_the_contract_still_reads_with_one_child_when_absent():
    legacy = SpikeReportForwarded.from_bytes(json.dumps(["r-2", "food_poisoning", "310115", 1.5]).encode())
    assert (legacy.report_id, legacy.children) == ("r-2", 1)


@pytest.mark.parametrize("value,field", [
    ({"report_id": "r", "kind": "food_poisoning", "district_code": "31011", "occurred_at_s": 1}, "district_code"),
    ({"report_id": "r", "kind": "nope", "district_code": "310115", "occurred_at_s": 1}, "kind"),
    ({"report_id": "", "kind": "food_poisoning", "district_code": "310115", "occurred_at_s": 1}, "report_id"),
    ({"report_id": "r", "kind": "food_poisoning", "district_code": "310115", "occurred_at_s": "NaN"}, "occurred_at_s"),
    ({"report_id": "r", "kind": "food_poisoning", "district_code": "310115", "occurred_at_s": 1, "children": 0},
     "children"),
    ({"report_id": "r", "kind": "food_poisoning", "district_code": "310115", "occurred_at_s": 1, "x": 1}, "x"),
])
def test_a_bad_field_is_named(value, field):
    with pytest.raises(ContractError) as caught:
        SpikeReportForwarded.from_bytes(json.dumps(value).encode())
    assert [e.field for e in caught.value.errors] == [field]


@given(NASTY)
def test_nasty_bytes_are_refused_with_a_field_or_read(raw):
    try:
        SpikeReportForwarded.from_bytes(raw)
    except ContractError as exc:
        assert exc.errors and all(e.field for e in exc.errors)
