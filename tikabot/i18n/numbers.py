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


# Ordinals written out, as a health SMS says a dose ("প্রথম ডোজ", "दूसरी डोज़", "your second dose").
# Hand-written: CLDR has no spelled-out ordinals for bn and hi, and no vaccine has more than five
# doses. Hindi in the feminine, since डोज़ is feminine (tikabot/i18n/glossary.toml).
ORDINALS = {
    "en": ("first", "second", "third", "fourth", "fifth"),
    "bn": ("প্রথম", "দ্বিতীয়", "তৃতীয়", "চতুর্থ", "পঞ্চম"),
    "hi": ("पहली", "दूसरी", "तीसरी", "चौथी", "पाँचवीं"),
}
ORDINAL_SUFFIX = {"bn": "তম", "hi": "वीं"}


def ordinal(value: int, lang: str) -> str:
    """1 -> "first" / "প্রথম" / "पहली"; past the table, digits with the language's ending."""
    words = ORDINALS.get(lang, ORDINALS["en"])
    if 1 <= value <= len(words):
        return words[value - 1]
    if lang in ORDINAL_SUFFIX:
        return native_digits(str(value), lang) + ORDINAL_SUFFIX[lang]
    return f"{value}th"


class Number(str):
    """A count in the reader's digits; `{dose:ordinal}` in a template writes it as an ordinal word."""

    def __new__(cls, value: int, lang: str):
        made = super().__new__(cls, native_digits(str(value), lang))
        made.value, made.lang = value, lang
        return made

    def __format__(self, spec: str) -> str:
        if spec == "ordinal":
            return ordinal(self.value, self.lang)
        return format(str(self), spec)


def number(value: int, lang: str) -> Number:
    return Number(value, lang)
