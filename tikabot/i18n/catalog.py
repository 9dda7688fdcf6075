"""Message catalogs: gettext .po files read at run time (no compile step).

msgid is a stable key such as ``staff.dose_recorded``; msgstr is the text with
``{named}`` placeholders (str.format). Keys ``keyword.<WORD>`` and
``language.<CODE>`` hold comma-separated aliases instead of message text.
"""

from __future__ import annotations

import logging
import string
import unicodedata
from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LANGUAGES = ("en", "bn", "hi")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
ALIAS_PREFIXES = ("keyword.", "language.")

log = logging.getLogger(__name__)

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def fold(word: str) -> str:
    """Comparable form of a word: NFC, zero-width characters removed, case-folded."""
    return unicodedata.normalize("NFC", word.translate(_INVISIBLE)).casefold()


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@cache
def _entries(lang: str) -> dict[str, str]:
    """Every translated entry of one language's .po file (read once per process)."""
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    return {
        m.id: m.string
        for m in catalog
        if m.id and isinstance(m.id, str) and m.string and not m.fuzzy
    }


def _lang(lang: str) -> str:
    code = (lang or "").lower()
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    return code


def all_keys() -> list[str]:
    """Message keys (English catalog), without the alias entries."""
    return [k for k in _entries(DEFAULT_LANGUAGE) if not k.startswith(ALIAS_PREFIXES)]


def template(key: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The raw text for key in lang, English when lang lacks it. KeyError if unknown."""
    code = _lang(lang)
    english = _entries(DEFAULT_LANGUAGE)
    if key not in english:
        raise KeyError(key)
    return _entries(code).get(key, english[key])


def placeholders(text: str) -> set[str]:
    """Names of the {placeholders} in a template."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def render(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The message for key in lang with params filled in.

    A translation that cannot be filled (a translator's typo in a placeholder)
    falls back to English rather than failing the reply.
    """
    text = template(key, lang)
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError):
        english = template(key, DEFAULT_LANGUAGE)
        if text == english:
            raise
        log.warning("translation of %s in %s cannot be filled; using English", key, lang)
        return english.format(**params)


def _aliases(prefix: str) -> dict[str, str]:
    table: dict[str, str] = {}
    for lang in LANGUAGES:
        for key, text in _entries(lang).items():
            if key.startswith(prefix):
                canonical = key[len(prefix):]
                table[fold(canonical)] = canonical
                for alias in text.split(","):
                    if alias.strip():
                        table.setdefault(fold(alias.strip()), canonical)
    return table


@cache
def keyword_aliases() -> dict[str, str]:
    """Alias (folded) -> canonical English keyword, from every catalog."""
    return _aliases("keyword.")


@cache
def language_aliases() -> dict[str, str]:
    """Language name (folded) -> language code in upper case (EN, BN, HI)."""
    return _aliases("language.")
