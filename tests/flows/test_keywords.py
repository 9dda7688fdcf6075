"""Keywords as people type them: typos one edit away, phrases, and the words staff use for END."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tikabot.flows.keywords import MIN_GUESS, command_word, guess, one_edit, staff_keyword
from tikabot.flows.parse import parse
from tikabot.i18n.catalog import keyword_aliases


@pytest.mark.parametrize("text, keyword", [
    ("DSOE 12345678", "DOSE"), ("DOES 12345678 2", "DOSE"), ("dosee 12345678", "DOSE"),
    ("VERFY 12345678", "VERIFY"), ("verifyy 12345678", "VERIFY"), ("UNOD", "UNDO"), ("COUTN", "COUNT"),
    ("STRAT COVISHIELD 4120Z025", "START"), ("HLEP", "HELP"), ("STOPP", "STOP"), ("DONE", "END"),
    ("haa", "YES"), ("Ji", "YES"), ("ঠিক আছে", "YES"), ("ঠিক আছে।", "YES"), ("ठीक है", "YES"), ("নাহ", "NO"),
    ("1", "YES"), ("2", None), ("CANCEL", "NO"), ("বাতিল।", "NO"), ("रद्द", "NO"),
])
def test_what_people_type_is_read_as_the_command(text, keyword):
    assert parse(text).keyword == keyword


@pytest.mark.parametrize("word", ["COSE", "SOTP", "NOO", "YE", "STO", "hello", "DOSEDOSE", "12345678"])
def test_no_guess_when_a_typo_is_ambiguous_or_the_word_too_short(word):
    """COSE is one edit from CODE (OTP) and DOSE (DOSE): neither is guessed."""
    assert guess(word) is None


def test_a_typo_keeps_its_arguments():
    parsed = parse("DSOE 12345678 2 COVISHIELD 4120Z025")
    assert (parsed.keyword, parsed.ref, parsed.dose, parsed.vaccine, parsed.lot) == (
        "DOSE", "12345678", 2, "COVISHIELD", "4120Z025")


@pytest.mark.parametrize("text, keyword", [("বন্ধ", "END"), ("बंद", "END"), ("BAND", "END"), ("STOP", "STOP")])
def test_staff_close_the_session_with_the_word_for_stop(text, keyword):
    assert staff_keyword(parse(text).keyword, text) == keyword


def _edits(word: str) -> st.SearchStrategy[str]:
    letters = st.sampled_from("abcdefghijklmnopqrstuvwxyz")
    positions = st.integers(0, len(word))
    return st.one_of(
        st.builds(lambda i, c: word[:i] + c + word[i:], positions, letters),                 # insert
        st.builds(lambda i: word[:i] + word[i + 1:], st.integers(0, len(word) - 1)),         # delete
        st.builds(lambda i, c: word[:i] + c + word[i + 1:], st.integers(0, len(word) - 1), letters),  # change
        st.builds(lambda i: word[:i] + word[i + 1] + word[i] + word[i + 2:], st.integers(0, len(word) - 2)),  # swap
    )


LATIN = sorted(a for a in keyword_aliases() if a.isascii() and a.isalpha() and len(a) >= 2)


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(LATIN).flatmap(lambda w: st.tuples(st.just(w), _edits(w))))
def test_a_typo_is_read_as_its_own_keyword_or_not_at_all(pair):
    """One edit never turns a keyword into another one (STOP/START, YES/NO, CODE/DOSE)."""
    word, typo = pair
    own = keyword_aliases()[word]
    got = command_word(typo)
    if typo in keyword_aliases():  # the edit made another valid word: read exactly as that word
        assert got == keyword_aliases()[typo]
    else:
        assert got in (own, None), (word, typo, got)
        if got is not None:
            assert len(typo) >= MIN_GUESS


@given(st.sampled_from(sorted(keyword_aliases())))
def test_every_valid_keyword_reads_as_itself(word):
    assert command_word(word) == keyword_aliases()[word]


@given(st.text("abcdefgh", max_size=6), st.text("abcdefgh", max_size=6))
def test_one_edit_is_symmetric(a, b):
    assert one_edit(a, b) == one_edit(b, a)
