"""What a reader types or dials is ASCII in every language; the same number in prose stays native."""
from __future__ import annotations

import re

import pytest

from tikabot.i18n.catalog import LANGUAGES, all_keys, command_words, render, typed_fields, template
from tikabot.i18n.numbers import DIALLED, native_digits
from tikabot.i18n.samples import sample_params

NATIVE_DIGITS = re.compile("[০-৯०-९]")


def typed_runs(text: str) -> list[str]:
    """Each command in a rendered text: a command word and the tokens after it that a reader would
    type with it (ASCII or not: a Bengali "১" after DOSE is exactly what must not happen)."""
    words = "|".join(sorted(command_words(), key=len, reverse=True))
    token = r"(?:[A-Z0-9<>#\[\]-]|[০-৯०-९])+"
    return re.findall(rf"(?<![\w-])(?:{words})(?: +{token})+", text)


def numeric_samples(key: str, lang: str) -> dict:
    """Sample params with every count an int, so that a prose count would come out native."""
    params = sample_params(key, lang)
    return {k: (int(v) if isinstance(v, str) and v.isdigit() and k not in ("code", "ref", "lot") else v)
            for k, v in params.items()}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_command_in_every_template_reads_in_ascii(lang):
    found = []
    for key in all_keys():
        text = render(key, lang, **numeric_samples(key, lang))
        found += [f"{lang} {key}: {run!r}" for run in typed_runs(text) if NATIVE_DIGITS.search(run)]
        found += [f"{lang} {key}: {native_digits(n, lang)!r} to dial" for n in DIALLED
                  if native_digits(n, lang) != n and native_digits(n, lang) in text]
    assert not found, "\n".join(found)


def test_a_dose_number_is_native_in_prose_and_ascii_in_the_command():
    text = render("staff.earlier_dose_missing", "bn", ref="0700000002", dose=2, missing=1)
    assert "ডোজ ১ " in text and re.search(r"DOSE 0700000002 1\b", text) and "DOSE 0700000002 ১" not in text
    assert typed_fields(template("staff.earlier_dose_missing", "bn")) == {"ref", "missing", "dose"}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("key", ["staff.aefi_severe_alerted", "staff.aefi_severe_nobody", "ussd.aefi_severe_alerted",
                                 "ussd.aefi_severe_nobody", "alert.next_severe_sms"])
def test_the_ambulance_is_dialled_as_108(key, lang):
    assert "108" in render(key, lang, **sample_params(key, lang))
