"""How many SMS segments a body costs: GSM-7 (with its extension table) or UCS-2, exactly as carriers split it.

GSM-7: 160 septets in one segment, 153 per part when split; an extension character (€ [ ] { } ~ ^ | \\ and
form feed) takes two septets (escape + char) and is never split across parts. Anything outside the GSM-7
tables switches the whole body to UCS-2: 70 UTF-16 code units in one segment, 67 per part; a character
outside the BMP (emoji) takes two code units and its surrogate pair is never split.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

Encoding = Literal["GSM-7", "UCS-2"]

SINGLE = {"GSM-7": 160, "UCS-2": 70}
PART = {"GSM-7": 153, "UCS-2": 67}


@dataclass(frozen=True)
class SegmentCount:
    """The encoding a body needs, its length in that encoding's units, and the parts it is sent in."""

    encoding: Encoding
    units: int
    segments: int

    @property
    def per_segment(self) -> int:
        return SINGLE[self.encoding] if self.segments <= 1 else PART[self.encoding]


def encoding_of(text: str) -> Encoding:
    """GSM-7 when every character is in the basic or extension table, otherwise UCS-2."""
    return "GSM-7" if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text) else "UCS-2"


def unit_cost(ch: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    if encoding == "GSM-7":
        return 2 if ch in GSM7_EXTENSION else 1
    return 2 if ord(ch) > 0xFFFF else 1


def split_segments(text: str) -> list[str]:
    """The parts a carrier sends, never cutting an escape sequence or a surrogate pair."""
    encoding = encoding_of(text)
    costs = [unit_cost(ch, encoding) for ch in text]
    if sum(costs) <= SINGLE[encoding]:
        return [text] if text else []
    limit = PART[encoding]
    parts: list[str] = []
    start, used = 0, 0
    for i, cost in enumerate(costs):
        if used + cost > limit:
            parts.append(text[start:i])
            start, used = i, 0
        used += cost
    parts.append(text[start:])
    return parts


def count_segments(text: str) -> SegmentCount:
    """Encoding, units and number of segments of ``text`` (an empty body is 0 segments)."""
    encoding = encoding_of(text)
    units = sum(unit_cost(ch, encoding) for ch in text)
    return SegmentCount(encoding=encoding, units=units, segments=len(split_segments(text)))
