"""Dose numbers written as ordinals, in the three languages: never a lot, never an unknown vaccine."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tikabot.flows.ordinals import WORDS, dose_number
from tikabot.flows.parse import MAX_DOSE, parse

SESSION_LOT = None  # a DOSE with no lot leaves the lot to the open session's

ORDINALS = [  # (as a vaccinator writes it, dose number)
    ("১ম", 1), ("২য়", 2), ("২য়", 2), ("৩য়", 3), ("প্রথম", 1), ("দ্বিতীয়", 2), ("দ্বিতীয়", 2), ("তৃতীয়", 3),
    ("1st", 1), ("2nd", 2), ("3rd", 3), ("2ND", 2), ("first", 1), ("Second", 2), ("THIRD", 3),
    ("पहली", 1), ("दूसरी", 2), ("तीसरी", 3), ("पहला", 1), ("दूसरा", 2), ("१ली", 1), ("२री", 2),
    ("pehli", 1), ("doosri", 2), ("dusri", 2), ("pahla", 1), ("dusra", 2), ("teesri", 3),
    ("prothom", 1), ("dwitiyo", 2), ("D1", 1), ("d2", 2), ("D-2", 2), ("DOSE2", 2), ("2", 2), ("২", 2),
]


@pytest.mark.parametrize("word, number", ORDINALS)
def test_ordinals_are_dose_numbers(word, number):
    assert dose_number(word) == number


@pytest.mark.parametrize("word", ["4120Z025", "L1", "12345678", "COVISHIELD", "AB12", "12", "", "ST", "ম",
                                  "pehlwan", "1STX", "D12"])
def test_other_tokens_are_not(word):
    assert dose_number(word) is None


@pytest.mark.parametrize("word, number", ORDINALS)
def test_an_ordinal_in_a_dose_report_is_the_dose_never_the_lot(word, number):
    for text in (f"DOSE 0700000026 {word}", f"ডোজ 0700000026 {word}", f"टीका 0700000026 {word}",
                 f"DOSE {word} 0700000026"):
        got = parse(text)
        assert (got.keyword, got.ref, got.dose, got.lot, got.vaccine, got.error) == (
            "DOSE", "0700000026", number, SESSION_LOT, None, None), text


def test_the_issue_reports_read_right():
    got = parse("ডোজ 0700000026 ১ম")
    assert (got.dose, got.lot, got.error) == (1, None, None)
    got = parse("DOSE 0700000029 1st")
    assert (got.dose, got.lot, got.error) == (1, None, None)
    got = parse("DOSE 0700000029 पहली COVISHIELD 4120Z025")
    assert (got.dose, got.vaccine, got.lot, got.error) == (1, "COVISHIELD", "4120Z025", None)
    got = parse("ডোজ 0700000029 দ্বিতীয় ডোজ")  # "second dose": the word for dose is not a vaccine
    assert (got.dose, got.vaccine, got.error) == (2, None, None)


def test_ordinals_out_of_range_or_in_conflict_are_bad_dose_numbers():
    assert (parse("DOSE 12345678 4th").dose, parse("DOSE 12345678 4th").error) == (4, "bad_dose")
    assert parse("DOSE 12345678 ৪র্থ").error == "bad_dose"
    assert parse("DOSE 12345678 1st 2").error == "bad_dose"  # two different dose numbers
    assert (parse("DOSE 12345678 2nd 2").dose, parse("DOSE 12345678 2nd 2").error) == (2, None)


def test_elsewhere_marks_an_earlier_dose_given_elsewhere():
    for text in ("DOSE 12345678 2 ELSEWHERE", "ডোজ ১২৩৪৫৬৭৮ ২য় অন্যত্র", "टीका 12345678 दूसरी बाहर",
                 "dose 12345678 second elsewhere cs l9"):
        got = parse(text)
        assert (got.dose, got.elsewhere, got.error) == (2, True, None), text
    assert parse("DOSE 12345678 2").elsewhere is False


def test_undo_takes_an_optional_ref():
    assert (parse("UNDO").ref, parse("UNDO").error) == (None, None)
    assert (parse("undo 1234-5678").ref, parse("undo 1234-5678").error) == ("12345678", None)
    assert parse("UNDO 12").error == "bad_ref"


# ---- properties

ALL_WORDS = [w for words in WORDS.values() for w in words]
LOTS = st.from_regex(r"[A-Z]{1,3}[0-9]{2,6}[A-Z]?[0-9]{0,3}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ALL_WORDS + ["1st", "2nd", "3rd", "১ম", "২য়", "৩য়", "D1", "D2"]),
       st.from_regex(r"[0-9]{6,14}", fullmatch=True), st.one_of(st.none(), LOTS),
       st.sampled_from(["DOSE", "ডোজ", "टीका", "dose"]), st.booleans())
def test_a_dose_shaped_token_is_always_the_dose_and_a_lot_stays_the_lot(word, ref, lot, keyword, lot_first):
    extra = [lot] if lot else []
    parts = [keyword, ref, *(extra + [word] if lot_first else [word] + extra)]
    got = parse(" ".join(parts))
    assert got.dose == dose_number(word) and 1 <= got.dose <= MAX_DOSE
    assert got.lot == lot
    assert got.error is None
    assert got.vaccine is None


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=12))
def test_dose_number_never_raises_and_a_number_is_never_a_lot(token):
    number = dose_number(token)
    assert number is None or number >= 0
    got = parse(f"DOSE 12345678 {token}")
    if number is not None and got.error is None and len(got.args) == 2:
        assert got.lot is None and got.dose == number
