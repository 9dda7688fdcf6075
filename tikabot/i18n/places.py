"""A site's name in the reader's language, with the fallback each reader can still read.

sites.csv carries `name` and optionally `name_en`, `name_bn`, `name_hi`. A message uses:

- the name in the reader's language when there is one;
- else `name`, when it is written in the reader's script (Bengali script for bn, Devanagari for
  hi, GSM-7 characters for en);
- else `name_en`, when there is one (Latin letters: a Hindi reader reads "Basirhat PHC 1" and not
  "বসিরহাট স্বাস্থ্যকেন্দ্র 1");
- else `name`, as it is: the right place in a script the reader may not read beats a guess. For
  English this makes the message UCS-2 (twice the cost); `tikabot templates check` measures it
  with the names in the database, and giving the site a `name_en` fixes it.

Nothing is transliterated by machine: a wrong place name sends people to the wrong place.
"""
from __future__ import annotations

from dataclasses import dataclass

from tikabot.i18n.encoding import GSM7, encoding_of

SCRIPTS = {"bn": ("\u0980", "\u09ff"), "hi": ("\u0900", "\u097f")}


def in_script(text: str, lang: str) -> bool:
    """True when text is written for lang's readers (its letters in lang's script; GSM-7 for en)."""
    if lang == "en":
        return encoding_of(text) == GSM7
    low, high = SCRIPTS[lang]
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(low <= ch <= high for ch in letters)


@dataclass(frozen=True)
class PlaceName:
    name: str
    en: str | None = None
    bn: str | None = None
    hi: str | None = None

    def __str__(self) -> str:
        return self.name

    def __bool__(self) -> bool:
        return bool(self.name)

    def localize(self, lang: str) -> str:
        own = getattr(self, lang, None) if lang in ("en", "bn", "hi") else None
        if own:
            return own
        if lang in SCRIPTS or lang == "en":
            if in_script(self.name, lang):
                return self.name
            if self.en:
                return self.en
        return self.name

    def longest(self) -> str:
        return max((n for n in (self.name, self.en, self.bn, self.hi) if n), key=len)


def place_name(site) -> PlaceName:
    """The PlaceName of a Site row (or anything with name, name_en, name_bn, name_hi)."""
    return PlaceName(site.name or "", getattr(site, "name_en", None) or None,
                     getattr(site, "name_bn", None) or None, getattr(site, "name_hi", None) or None)
