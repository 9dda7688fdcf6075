"""Numbers in the digits a reader of each language expects, by CLDR's default numbering system.

CLDR gives Bengali `beng` (০–৯) and Hindi and English `latn` (0–9). Hindi SMS in North India are
read with ASCII digits, so CLDR and practice agree; Bengali readers in West Bengal read dates,
times and counts in Bengali digits. Codes, references, lots and phone numbers are never passed
through here: a person types them back or reads them out, and they stay ASCII in every language.
"""
from __future__ import annotations

from functools import cache

from babel import Locale

from tikabot.i18n.digits import BENGALI_DIGITS, DEVANAGARI_DIGITS

DIALLED = ("108",)  # numbers a reader dials (the ambulance): written in ASCII in every language, as on a keypad
DIGITS = {"latn": "0123456789", "beng": BENGALI_DIGITS, "deva": DEVANAGARI_DIGITS}


@cache
def numbering_system(lang: str) -> str:
    return Locale.parse(lang).default_numbering_system


@cache
def _table(lang: str) -> dict:
    return str.maketrans("0123456789", DIGITS.get(numbering_system(lang), DIGITS["latn"]))


def native_digits(text: str, lang: str) -> str:
    """text with its ASCII digits written in lang's digits."""
    return text.translate(_table(lang))


def number(value: int, lang: str) -> str:
    return native_digits(str(value), lang)
