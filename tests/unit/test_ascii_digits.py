"""District codes and barcodes are ASCII digits only: full-width (３１０１１５), Arabic-Indic (٣١٠١١٥) and every
other script's decimal digits are refused with an error naming the field, in the contracts, in the exported JSON
Schemas and the intake's OpenAPI, in the alert slots and in the directory import."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.directory.columns import barcode, district
from contracts import events as ev
from contracts.alert_slots import SLOTS, AlertKind, SlotError, normalise_deadline, normalise_slot
from contracts.codec import decode
from contracts.errors import ContractError
from contracts.schemas import render
from streams.openapi import intake_openapi
from tests.contract_samples import VALID
from tests.factories import envelope

ASCII = "0123456789"
# Every decimal digit Unicode knows that is not ASCII: full-width, Arabic-Indic, Devanagari, Bengali, Thai, ...
OTHER_DIGITS = st.characters(categories=["Nd"]).filter(lambda c: c not in ASCII)
SAMPLES = ["３１０１１５", "٣١٠١١٥", "۳۱۰۱۱۵", "३१०११५", "31011５"]


@st.composite
def six_digits_not_all_ascii(draw) -> str:
    """Six decimal digits, at least one of them not ASCII, the rest drawn from both."""
    digits = draw(st.lists(st.one_of(st.sampled_from(ASCII), OTHER_DIGITS), min_size=6, max_size=6))
    at = draw(st.integers(0, 5))
    digits[at] = draw(OTHER_DIGITS)
    return "".join(digits)


def _decode(event_type: type, **changes) -> ev.CloudEvent:
    data = {**VALID[event_type], **changes}
    return decode(json.dumps(envelope(data, type=event_type.TYPE), ensure_ascii=False).encode(), event_type)


DISTRICT_EVENTS = [t for t in VALID if "district_code" in VALID[t]]


def test_every_event_with_a_district_is_covered():
    assert {t.__name__ for t in DISTRICT_EVENTS} >= {"IncidentReportedEvent", "SafetyReportFiledEvent",
                                                       "OpenCaseCommand", "SchoolLocatedEvent"}


@pytest.mark.parametrize("event_type", DISTRICT_EVENTS, ids=lambda t: t.__name__)
@given(code=six_digits_not_all_ascii())
def test_a_district_of_non_ascii_digits_is_refused_naming_the_field(event_type, code):
    with pytest.raises(ContractError) as info:
        _decode(event_type, district_code=code)
    errors = {e.field: e.reason for e in info.value.errors}
    assert set(errors) == {"data.district_code"}, errors
    assert "six ASCII digits" in errors["data.district_code"], errors


@given(code=st.text(alphabet=ASCII, min_size=6, max_size=6))
def test_six_ascii_digits_are_a_district(code):
    assert _decode(ev.SchoolLocatedEvent, district_code=code).data.district_code == code


@given(code=six_digits_not_all_ascii())
def test_a_recall_sales_region_of_non_ascii_digits_is_refused(code):
    with pytest.raises(ContractError) as info:
        _decode(ev.RecallPublishedEvent, sales_regions=["310115", code])
    assert [e.field for e in info.value.errors] == ["data.sales_regions.1"], info.value.errors


@pytest.mark.parametrize("zero", ["０", "٠", "۰", "०"], ids=["full-width", "arabic-indic", "persian", "devanagari"])
def test_a_barcode_of_non_ascii_digits_is_refused(zero):
    """The valid sample's GTIN (its check digit right) written in another script's digits."""
    code = "".join(chr(ord(zero) + int(c)) for c in VALID[ev.RecallPublishedEvent]["barcode"])
    with pytest.raises(ContractError) as info:
        _decode(ev.RecallPublishedEvent, barcode=code)
    assert [e.field for e in info.value.errors] == ["data.barcode"]
    with pytest.raises(ValueError, match="digits"):
        barcode(code)


def test_the_exported_schemas_and_the_openapi_carry_the_ascii_pattern():
    """What other systems validate against says the same: [0-9], never \\d (ECMA's \\d is ASCII, Python's is not)."""
    patterns = set()

    def collect(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "district_code" and isinstance(value, dict) and "pattern" in value:
                    patterns.add(value["pattern"])
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    for text in render().values():
        assert "\\\\d" not in text, "a schema pattern uses \\d"
        collect(json.loads(text))
    collect(intake_openapi())
    assert patterns == {"^[0-9]{6}$"}
    assert all(not re.fullmatch(p, code) for p in patterns for code in SAMPLES)


@given(code=six_digits_not_all_ascii())
def test_an_alert_slot_district_of_non_ascii_digits_is_refused(code):
    spec = next(s for s in SLOTS[AlertKind.OUTBREAK] if s.name == "district_code")
    with pytest.raises(SlotError, match="six-digit"):
        normalise_slot(spec, code)
    assert normalise_slot(spec, "310115") == "310115"


@pytest.mark.parametrize("value", ["１２:３０", "2026-12-0１", "٢٠٢٦-١٢-٠١ 10:00"])
def test_an_alert_deadline_of_non_ascii_digits_is_refused(value):
    with pytest.raises(SlotError):
        normalise_deadline(value)


@given(code=six_digits_not_all_ascii())
def test_the_directory_import_refuses_a_district_of_non_ascii_digits(code):
    with pytest.raises(ValueError, match="six ASCII digits"):
        district(code)
