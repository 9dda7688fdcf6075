"""Does a bot text read as Bengali or Hindi? Only command words, codes and proper nouns stay in English."""
from __future__ import annotations

import re

COMMAND = re.compile(r"/[a-z]+")
CODE_LIKE = re.compile(r"\b[A-Z][A-Z0-9_-]*\b")  # KAL01, CODE, ALL, SMS, COVISHIELD, YYYY-MM-DD
PROPER_NOUNS = ("tikabot import sites", "tikabot", "Telegram", "Asha Coordinator", "Rina Vaccinator",
                "Mita Verifier", "Bimal Vaccinator", "Nadia", "North 24 Parganas")
LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
BENGALI, DEVANAGARI = re.compile(r"[\u0980-\u09ff]"), re.compile(r"[\u0900-\u0963\u0966-\u097f]")  # । is shared


def english_words(text: str) -> list[str]:
    """Runs of 4+ Latin letters left once command names, codes and proper nouns are taken out."""
    for noun in PROPER_NOUNS:
        text = text.replace(noun, " ")
    return LATIN_WORD.findall(CODE_LIKE.sub(" ", COMMAND.sub(" ", text)))


def assert_reads_as(text: str, lang: str) -> None:
    assert not english_words(text), (lang, english_words(text), text)
    assert (BENGALI if lang == "bn" else DEVANAGARI).search(text), text
    assert not (DEVANAGARI if lang == "bn" else BENGALI).search(text), text  # no other script's letters
    if lang == "bn":  # Bengali prose counts in ০-৯; ASCII digits only in codes and phone numbers
        prose = re.sub(r"রেফ \d+|\+91\*+\d+|\+91\d{10}|\b[A-Z0-9_-]*[A-Z][A-Z0-9_-]*\b|/\w+|\d{4}-\d{2}-\d{2}", "", text)
        assert not re.search(r"[0-9]", prose), text
