"""Bengali (০–৯) and Devanagari (०–९) digits to ASCII."""

from __future__ import annotations

BENGALI_DIGITS = "০১২৩৪৫৬৭৮৯"
DEVANAGARI_DIGITS = "०१२३४५६७८९"

_TO_ASCII = str.maketrans(
    {**{d: str(i) for i, d in enumerate(BENGALI_DIGITS)},
     **{d: str(i) for i, d in enumerate(DEVANAGARI_DIGITS)}}
)


def ascii_digits(text: str) -> str:
    """Return text with Bengali and Devanagari digits replaced by ASCII ones."""
    return text.translate(_TO_ASCII)
