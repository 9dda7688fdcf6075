"""Dose numbers as people write them: `2`, `D2`, `2nd`, `second`, `২য়`, `দ্বিতীয়`, `दूसरी`, `doosri`.

    dose_number("২য়") -> 2      dose_number("4TH") -> 4      dose_number("4120Z025") -> None

A token this returns a number for is shaped like a dose number, in or out of range: the parser
never takes it for a lot or a vaccine. Kept as one table of its own, apart from the keyword
aliases, so the words can grow without touching the grammar.
"""
from __future__ import annotations

import re
from functools import cache

from tikabot.i18n.catalog import fold
from tikabot.i18n.digits import ascii_digits

# Written out, in each language and the common romanizations (one table, one line a number).
WORDS: dict[int, tuple[str, ...]] = {
    1: ("FIRST", "ONE", "প্রথম", "পয়লা", "पहली", "पहला", "पहले", "प्रथम",
        "PEHLI", "PAHLI", "PEHLA", "PAHLA", "PEHLE", "PAHLE", "PRATHAM", "PROTHOM", "PROTHOMO"),
    2: ("SECOND", "TWO", "দ্বিতীয়", "দ্বিতীয়", "दूसरी", "दूसरा", "दूसरे", "द्वितीय",
        "DOOSRI", "DUSRI", "DOOSRA", "DUSRA", "DOOSRE", "DUSRE", "DWITIYA", "DWITIYO", "DITIYO", "DITIO"),
    3: ("THIRD", "THREE", "তৃতীয়", "তৃতীয়", "तीसरी", "तीसरा", "तीसरे", "तृतीय",
        "TEESRI", "TISRI", "TEESRA", "TISRA", "TEESRE", "TISRE", "TRITIYA", "TRITIYO"),
}
# A digit (already ASCII) with an ordinal ending: 1st 2nd 3rd 4th, ১ম ২য় ৩য় ৪র্থ ৫ম, १ला १ली २री ४था.
SUFFIXES = ("ST", "ND", "RD", "TH", "ম", "য়", "য়", "র্থ", "লা", "রা", "ঠা",
            "ला", "ली", "ले", "रा", "री", "रे", "था", "थी", "थे", "वां", "वीं", "वें")
PREFIXED = re.compile(r"(?:D|DOSE|DOZ|DOS|DOSIS)[-.]?([0-9])")  # D2, DOSE-2, D.1
BARE = re.compile(r"[0-9]")


@cache
def _words() -> dict[str, int]:
    return {fold(word): number for number, words in WORDS.items() for word in words}


@cache
def _suffixed() -> re.Pattern:
    endings = "|".join(sorted({re.escape(fold(s)) for s in SUFFIXES}, key=len, reverse=True))
    return re.compile(rf"([0-9]{{1,2}})(?:{endings})")


def dose_number(token: str) -> int | None:
    """The dose number a token is written as, or None when it is not shaped like one."""
    word = fold(ascii_digits(token or "").strip())
    if not word:
        return None
    if BARE.fullmatch(word):
        return int(word)
    if word in _words():
        return _words()[word]
    for pattern in (PREFIXED, _suffixed()):
        found = pattern.fullmatch(word.upper() if pattern is PREFIXED else word)
        if found:
            return int(found.group(1))
    return None
