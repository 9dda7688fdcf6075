"""SMS encoding and segment counting (GSM 03.38 / UCS-2).

A message is GSM-7 when every character is in the GSM 03.38 basic set or its
extension table (extension characters cost two septets: escape + character).
Anything else makes the whole message UCS-2, counted in UTF-16 code units.
A multi-part message carries a header, so each part holds less: 153 septets
or 67 UTF-16 units. An escape pair or a surrogate pair is never split across
two parts, so parts are filled greedily.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7 = "GSM-7"
UCS2 = "UCS-2"

# GSM 03.38 basic character set, in code order (0x1B, the escape, left out).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ"
    "ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# Extension table: each costs two septets.
GSM7_EXTENSION = frozenset("\f^{}\\[]~|€")

SINGLE = {GSM7: 160, UCS2: 70}
PER_PART = {GSM7: 153, UCS2: 67}


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    segments: int
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2


def encoding_of(text: str) -> str:
    """"GSM-7" when every character fits GSM 03.38, else "UCS-2"."""
    for ch in text:
        if ch not in GSM7_BASIC and ch not in GSM7_EXTENSION:
            return UCS2
    return GSM7


def _unit_costs(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _count_parts(costs: list[int], per_part: int) -> int:
    parts, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            parts, used = parts + 1, 0
        used += cost
    return parts


def sms_info(text: str) -> SmsInfo:
    """Encoding, segment count and length in units. An empty text is one segment."""
    encoding = encoding_of(text)
    costs = _unit_costs(text, encoding)
    units = sum(costs)
    if units <= SINGLE[encoding]:
        return SmsInfo(encoding, 1, units)
    return SmsInfo(encoding, _count_parts(costs, PER_PART[encoding]), units)


def segments(text: str) -> int:
    return sms_info(text).segments
