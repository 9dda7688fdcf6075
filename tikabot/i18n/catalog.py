"""Message catalogs: gettext .po files read at run time (no compile step).

msgid is a stable key such as ``staff.dose_recorded``; msgstr is the text with
``{named}`` placeholders (str.format). Keys ``keyword.<WORD>`` and
``language.<CODE>`` hold comma-separated aliases instead of message text.

A message whose words change with a number is a gettext plural entry: ``msgid_plural`` is the key
followed by the placeholder that counts (``msgid_plural "staff.otp_wrong {tries_left}"``), and
``msgstr[0]``, ``msgstr[1]``... are the forms the file's ``Plural-Forms`` header chooses between.

Params are shown in the reader's language before they are filled in (``localize``): a date or
anything with a ``localize(lang)`` method (dates.Day, dates.Slot, places.PlaceName) as that
reader writes it, and a count (an int) in the reader's digits; codes, references, lots and
phone numbers stay as they are. What a reader must type back is ASCII whatever the language: a
placeholder inside a command ("DOSE {ref} {missing}", "OTP {ref} <CODE>") is filled in ASCII
digits (``typed_fields``), while the same number in prose stays native ("ডোজ ১ ... DOSE 0700000002 1").
"""

from __future__ import annotations

import gettext
import logging
import re
import string
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Callable

from babel.messages.pofile import read_po

from tikabot.i18n.dates import day_text
from tikabot.i18n.digits import ascii_digits
from tikabot.i18n.numbers import number

LANGUAGES = ("en", "bn", "hi")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).parent / "locale"
ALIAS_PREFIXES = ("keyword.", "language.")
IDENTIFIERS = frozenset({"code", "ref", "lot", "phone", "digits", "user_id"})  # never in native digits

log = logging.getLogger(__name__)

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))


def fold(word: str) -> str:
    """Comparable form of a word: NFC, zero-width characters removed, case-folded."""
    return unicodedata.normalize("NFC", word.translate(_INVISIBLE)).casefold()


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"


@dataclass(frozen=True)
class Plural:
    """A plural entry: the param that counts, the forms, and the rule choosing a form."""
    param: str
    forms: tuple[str, ...]
    choose: Callable[[int], int]

    def form(self, n: int) -> str:
        index = self.choose(n)
        return self.forms[index] if 0 <= index < len(self.forms) and self.forms[index] else self.forms[-1]


def _read(lang: str):
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


@cache
def _entries(lang: str) -> dict[str, str]:
    """Every translated entry of one language's .po file (read once per process); for a plural
    entry, its last ("other") form."""
    found = {m.id: m.string for m in _read(lang) if m.id and isinstance(m.id, str) and m.string and not m.fuzzy}
    found.update({key: p.forms[-1] for key, p in _plurals(lang).items()})
    return found


@cache
def _plurals(lang: str) -> dict[str, Plural]:
    catalog = _read(lang)
    choose = gettext.c2py(catalog.plural_expr)
    out = {}
    for m in catalog:
        if isinstance(m.id, (tuple, list)) and not m.fuzzy and all(m.string):
            key, counted = m.id[0], sorted(placeholders(m.id[1]))
            if len(counted) != 1:
                raise ValueError(f"{po_path(lang)}: {key}: msgid_plural must name the counting placeholder, "
                                 f'as "{key} {{count}}"')
            out[key] = Plural(counted[0], tuple(m.string), choose)
    return out


def clear_cache() -> None:
    """Forget the catalogs read (tests that edit a copy of them)."""
    for reader in (_entries, _plurals, keyword_aliases, language_aliases, _command_run):
        reader.cache_clear()


def plural(key: str, lang: str) -> Plural | None:
    return _plurals(_lang(lang)).get(key)


def localize(name: str, value: object, lang: str) -> object:
    """A param as lang's reader reads it (see the module docstring)."""
    if hasattr(value, "localize"):
        return value.localize(lang)
    if isinstance(value, date):
        return day_text(value, lang)
    if isinstance(value, int) and not isinstance(value, bool) and name not in IDENTIFIERS:
        return number(value, lang)
    return value


def _lang(lang: str) -> str:
    code = (lang or "").lower()
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {LANGUAGES}")
    return code


def all_keys() -> list[str]:
    """Message keys (English catalog), without the alias entries."""
    return [k for k in _entries(DEFAULT_LANGUAGE) if not k.startswith(ALIAS_PREFIXES)]


def template(key: str, lang: str = DEFAULT_LANGUAGE, count: int | None = None) -> str:
    """The raw text for key in lang, English when lang lacks it. KeyError if unknown. For a plural
    entry, the form for count (the "other" form when count is None)."""
    code = _lang(lang)
    english = _entries(DEFAULT_LANGUAGE)
    if key not in english:
        raise KeyError(key)
    if count is not None:
        forms = _plurals(code).get(key) or (None if key in _entries(code) else _plurals(DEFAULT_LANGUAGE).get(key))
        if forms is not None:
            return forms.form(count)
    return _entries(code).get(key, english[key])


def _count(key: str, lang: str, params: dict) -> int | None:
    found = _plurals(lang).get(key) or _plurals(DEFAULT_LANGUAGE).get(key)
    if found is None:
        return None
    try:
        return int(params.get(found.param))
    except (TypeError, ValueError):
        return None


def placeholders(text: str) -> set[str]:
    """Names of the {placeholders} in a template."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


TYPED = "typed"  # the format spec of a placeholder to be filled in ASCII (set by _typed, never by translators)
_TYPED_TOKEN = r"(?:\{\w+\}|[A-Z0-9<>#\[\]-]+)"  # what follows a command word in a command: a {param}, <LOT>, 2


def command_words() -> frozenset[str]:
    """The words a command starts with: every canonical keyword (DOSE, OTP, LANG...) and REF."""
    return frozenset(k[len("keyword."):] for k in _entries(DEFAULT_LANGUAGE) if k.startswith("keyword.")) | {"REF"}


@cache
def _command_run() -> re.Pattern:
    words = "|".join(sorted(command_words(), key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{words})(?: +{_TYPED_TOKEN})+")


def typed_fields(text: str) -> set[str]:
    """Placeholders of a template that stand inside a command the reader types back."""
    return {name for run in _command_run().finditer(text) for name in re.findall(r"\{(\w+)\}", run.group())}


def _typed(text: str) -> str:
    """The template with each placeholder inside a command marked to be filled in ASCII."""
    return _command_run().sub(lambda run: re.sub(r"\{(\w+)\}", rf"{{\1:{TYPED}}}", run.group()), text)


class _Formatter(string.Formatter):
    def format_field(self, value: object, format_spec: str) -> str:
        if format_spec == TYPED:
            return ascii_digits(str(value))
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def _fill(text: str, lang: str, params: dict) -> str:
    return _FORMATTER.vformat(_typed(text), (), {k: localize(k, v, lang) for k, v in params.items()})


def render(key: str, lang: str = DEFAULT_LANGUAGE, **params: object) -> str:
    """The message for key in lang with params filled in.

    A translation that cannot be filled (a translator's typo in a placeholder)
    falls back to English rather than failing the reply.
    """
    code = _lang(lang)
    text = template(key, code, _count(key, code, params))
    try:
        return _fill(text, code, params)
    except (KeyError, IndexError, ValueError):
        english = template(key, DEFAULT_LANGUAGE, _count(key, DEFAULT_LANGUAGE, params))
        if text == english:
            raise
        log.warning("translation of %s in %s cannot be filled; using English", key, lang)
        return _fill(english, DEFAULT_LANGUAGE, params)


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
