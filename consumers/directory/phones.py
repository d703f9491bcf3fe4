"""Phone numbers in, E.164 out: parsed with `phonenumbers`; guardians and contacts must be SMS-capable."""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

SMS_CAPABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def to_e164(raw: str, default_region: str = "CN", *, mobile_only: bool = True) -> str:
    """The E.164 form of ``raw``; raises ValueError saying what is wrong with it."""
    try:
        number = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number for its country (expected e.g. +8613912345678)")
    if mobile_only and phonenumbers.number_type(number) not in SMS_CAPABLE:
        raise ValueError("not a mobile number: SMS cannot reach it")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
