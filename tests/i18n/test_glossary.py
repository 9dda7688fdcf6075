"""Every entry of every catalog holds to the translators' glossary (tikabot/i18n/glossary.toml).

The entries are read from the .po files themselves, so an entry added later (by any issue) is held
to the same words. A failure names the language, the msgid, the word found and the word to use.
"""
from __future__ import annotations

import re
import tomllib
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from tikabot.i18n.catalog import ALIAS_PREFIXES, LANGUAGES, po_path
from tikabot.i18n.numbers import DIALLED

GLOSSARY = Path(__file__).parents[2] / "tikabot" / "i18n" / "glossary.toml"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")
COMMAND_RUN = re.compile(r"[ -~]*[A-Z][ -~]*")  # "DOSE <REF> 1", "LANG EN", "SMS-": ASCII with a capital
MENU_CHOICE = re.compile(r"(?m)^[0-9]+ ")  # "1 আমার অ্যাপয়েন্টমেন্ট", "00 মেনু": keys to press
REPLY_CHOICE = re.compile(r"[A-Z]+ বা [0-9]\b")  # "YES বা 1": what to send
DIAL = re.compile("|".join(rf"(?<![0-9]){n}(?![0-9])" for n in DIALLED))  # "108-এ ফোন করুন": dialled


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def glossary() -> dict:
    with GLOSSARY.open("rb") as f:
        return tomllib.load(f)["terms"]


def texts(lang: str) -> list[tuple[str, str]]:
    """(msgid, text) for every message of a catalog, each plural form included; aliases left out."""
    with po_path(lang).open("rb") as f:
        catalog = read_po(f, locale=lang)
    out = []
    for message in catalog:
        key = message.id[0] if isinstance(message.id, (tuple, list)) else message.id
        if not key or key.startswith(ALIAS_PREFIXES):
            continue
        strings = message.string if isinstance(message.string, (tuple, list)) else (message.string,)
        out += [(key, nfc(s)) for s in strings if s]
    return out


def offences(lang: str) -> list[str]:
    found = []
    for concept, term in glossary().items():
        plain = [nfc(v) for v in term.get("avoid", {}).get(lang, [])]
        patterns = [re.compile(nfc(p)) for p in term.get("avoid_re", {}).get(lang, [])]
        for key, text in texts(lang):
            for variant in plain:
                if variant in text:
                    found.append(f"{lang} {key}: {variant!r} -> write {term[lang]!r} ({concept})")
            for pattern in patterns:
                hit = pattern.search(text)
                if hit:
                    found.append(f"{lang} {key}: {hit.group()!r} -> write {term[lang]!r} ({concept}, "
                                 f"see glossary.toml)")
    return found


def test_the_glossary_names_a_word_for_every_concept_in_every_language():
    for concept, term in glossary().items():
        assert all(term.get(lang) for lang in LANGUAGES), concept


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogs_use_the_glossary_words(lang):
    found = offences(lang)
    assert not found, "\n".join(found)


def test_bengali_prose_writes_numbers_in_bengali_digits():
    """ASCII digits are left only in codes, commands, menu keys and numbers to dial."""
    found = []
    for key, text in texts("bn"):
        prose = COMMAND_RUN.sub("", MENU_CHOICE.sub("", REPLY_CHOICE.sub("", DIAL.sub("", PLACEHOLDER.sub("", text)))))
        if re.search(r"[0-9]", prose):
            found.append(f"bn {key}: ASCII digits in {text!r}; write ০-৯ outside codes and commands")
    assert not found, "\n".join(found)


def test_the_check_names_the_entry_and_the_word(tmp_path, monkeypatch):
    """A translator's variant is reported with its msgid, so it can be fixed where it is."""
    po = tmp_path / "locale" / "hi" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    po.write_text('msgid ""\nmsgstr ""\n"Language: hi\\n"\n\nmsgid "demo.entry"\n'
                  'msgstr "कृपया अपने स्वास्थ्य कार्यकर्ता को बताएं। अगला डोज़ कल है।"\n', encoding="utf-8")
    monkeypatch.setattr("tikabot.i18n.catalog.LOCALE_DIR", tmp_path / "locale")
    found = "\n".join(offences("hi"))
    assert "hi demo.entry: 'स्वास्थ्य कार्यकर्ता' -> write 'स्वास्थ्यकर्मी' (health_worker)" in found
    assert "hi demo.entry: 'बताएं' -> write 'बताएँ' (tell)" in found
    assert "अगला डोज़" in found and "(dose" in found
