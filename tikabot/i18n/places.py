"""A site's name in the reader's language, with a fallback each reader can read.

sites.csv carries `name` and optionally `name_en`, `name_bn`, `name_hi`. A message uses:

- the name in the reader's language when there is one;
- else `name`, when it is written in the reader's script (Bengali script for bn, Devanagari for
  hi, GSM-7 characters for en);
- else a name in another Indian script, transliterated into the reader's (a Hindi reader reads
  "बसिरहाट स्वास्थ्यकेन्द्र 1", never "বসিরহাট স্বাস্থ্যকেন্দ্র 1"; an English reader "Basirhat
  Svasthyakendra 1"), by indic-transliteration's Sanscript tables, never a hand-made table;
- else `name_en` (Latin letters, for a site that has no Indian-script name at all);
- else `name` as it is.

Transliteration keeps the sound of the name, not its meaning: a district gives `name_hi` when its
Hindi readers know the place by another name. Two adjustments on top of the library, both
because Bengali has one letter ব for what Hindi writes ब and व: ব is ब, except after a virama
(the ব-ফলা of স্বাস্থ্য, which Hindi writes व); and a Latin name drops the final inherent "a"
after a single consonant ("Barasat", not "Barasata"), as both languages say it.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from indic_transliteration import sanscript

from tikabot.i18n.encoding import GSM7, encoding_of

SCRIPTS = {"bn": ("\u0980", "\u09ff"), "hi": ("\u0900", "\u097f")}


def in_script(text: str, lang: str) -> bool:
    """True when text is written for lang's readers (its letters in lang's script; GSM-7 for en)."""
    if lang == "en":
        return encoding_of(text) == GSM7
    low, high = SCRIPTS[lang]
    letters = [ch for ch in text if ch.isalpha()]
    return bool(letters) and all(low <= ch <= high for ch in letters)


SANSCRIPT = {"bn": sanscript.BENGALI, "hi": sanscript.DEVANAGARI}
_BA = re.compile("(?<!\u094d)\u0935")  # व not after a virama: Bengali ব read as ब
_VOWELS = "aeiouāīūṛṝḷ"
# a final short "a" after one consonant that follows a vowel (IAST): "bārāsata" -> "bārāsat", "kendra" stays
_FINAL_SCHWA = re.compile(f"(?<=[{_VOWELS}][^{_VOWELS}\\W\\d])a\\b")
_ASCII_DIGITS = str.maketrans("०१२३४५६७८९০১২৩৪৫৬৭৮৯", "01234567890123456789")


def script_of(text: str) -> str | None:
    """"bn" or "hi" when text's letters are all in that script, "en" when it is GSM-7, else None."""
    for lang in ("bn", "hi", "en"):
        if in_script(text, lang):
            return lang
    return None


@cache
def transliterate(text: str, to: str) -> str:
    """A name in Bengali or Devanagari script, in the script of `to` ("bn", "hi", or "en": ASCII)."""
    source = script_of(text)
    if source not in SANSCRIPT or source == to:
        return text
    devanagari = text if source == "hi" else _BA.sub("\u092c", sanscript.transliterate(
        text, SANSCRIPT[source], sanscript.DEVANAGARI))
    if to == "hi":
        return devanagari.translate(_ASCII_DIGITS)  # Hindi SMS write 0-9 (glossary)
    if to == "bn":
        return sanscript.transliterate(text, SANSCRIPT[source], sanscript.BENGALI)
    latin = sanscript.transliterate(devanagari, sanscript.DEVANAGARI, sanscript.IAST)
    latin = _FINAL_SCHWA.sub("", unicodedata.normalize("NFC", latin))
    plain = "".join(ch for ch in unicodedata.normalize("NFD", latin) if not unicodedata.combining(ch))
    plain = plain.translate(_ASCII_DIGITS)
    return " ".join(word[:1].upper() + word[1:] for word in plain.split(" "))


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
        if lang not in SCRIPTS and lang != "en":
            return self.name
        if in_script(self.name, lang):
            return self.name
        if lang == "en" and self.en:
            return self.en
        indic = next((n for n in (self.name, self.bn, self.hi) if n and script_of(n) in SANSCRIPT), None)
        if indic:
            return transliterate(indic, lang)
        return self.en or self.name

    def longest(self) -> str:
        return max((n for n in (self.name, self.en, self.bn, self.hi) if n), key=len)


def place_name(site) -> PlaceName:
    """The PlaceName of a Site row (or anything with name, name_en, name_bn, name_hi)."""
    return PlaceName(site.name or "", getattr(site, "name_en", None) or None,
                     getattr(site, "name_bn", None) or None, getattr(site, "name_hi", None) or None)
