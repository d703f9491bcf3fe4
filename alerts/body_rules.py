"""Rules every SMS body must pass before it is sent; a violation raises the error named after its rule."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from alerts.errors import EmptyBodyRefused, SensitiveDetailRefused, TooManySegments, UrlToChinaRefused
from alerts.segments import SegmentCount, count_segments
from contracts.alert_slots import URL_PATTERN


@dataclass(frozen=True)
class BodyRules:
    """Defaults follow Twilio's China guidance (DOMAIN.md): no URL to +86, at most 8 segments."""

    max_segments: int = 8
    no_url_prefixes: tuple[str, ...] = ("+86",)


CHINA_GUIDANCE = BodyRules()
"""The rules when CHILDSAFE_SMS_MAX_SEGMENTS is not set (ops/bootstrap.build_body_rules reads it)."""


def check_body(body: str, to: str, rules: BodyRules, *, withheld: Iterable[str] = (), fixed_text: str = "") -> SegmentCount:
    """Refuse ``body`` for ``to`` if it breaks a rule; otherwise return its segment count.

    ``withheld`` are values that must never appear (names and details of a sensitive case); a value that
    is part of the template's own ``fixed_text`` is not a leak.
    """
    if not body.strip():
        raise EmptyBodyRefused("the body is empty")
    if any(to.startswith(prefix) for prefix in rules.no_url_prefixes):
        found = URL_PATTERN.search(body)
        if found:
            raise UrlToChinaRefused(f"URL {found.group(0)!r} in a body to a {to[:3]} number")
    for value in withheld:
        value = value.strip()
        if len(value) >= 2 and value in body and value not in fixed_text:
            raise SensitiveDetailRefused("the body contains a withheld parameter value")
    count = count_segments(body)
    if count.segments > rules.max_segments:
        raise TooManySegments(
            f"{count.segments} {count.encoding} segments ({count.units} units), at most {rules.max_segments} allowed")
    return count
