"""Vaccine names of several words ("SPUTNIK V") from the vaccines file, read by the SMS grammar and
taken by the staff flow the same whether an SMS was parsed or a USSD menu built the command."""
from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.vaccine_files import vaccines_file
from tikabot.flows import staff, vaccines
from tikabot.flows.confirmation import dose_confirmation
from tikabot.flows.course import FINAL
from tikabot.flows.effects import RecordDose, Reply
from tikabot.flows.facts import BeneficiaryFact, DoseFact, StaffFacts
from tikabot.flows.keywords import exact
from tikabot.flows.ordinals import dose_number
from tikabot.flows.parse import command, join_vaccine_names, parse

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
TODAY = date(2025, 6, 12)
RAHIMA = BeneficiaryFact(id=7, ref="12345678", name="Rahima Khatun", phone="+919830011111", language="bn",
                         site_id=1, site_name="Kalyani PHC")
SPUTNIK = ('[[vaccine]]\nname = "Sputnik V"\naliases = ["SPV", "Sputnik Light V"]\nmin_interval_days = 21\n'
           'doses = 2\n'
           '[[vaccine]]\nname = "SPUTNIK"\naliases = []\ndoses = 1\n')


@pytest.fixture
def sputnik(tmp_path):
    with vaccines_file(tmp_path, SPUTNIK):
        yield


def staff_facts(**changes) -> StaffFacts:
    base = dict(staff_id=1, phone="+919830000001", language="en", site_id=1, site_name="Kalyani PHC", today=TODAY,
                session=None, doses_today={1: 4}, due_today=9, beneficiary=RAHIMA)
    return StaffFacts(**{**base, **changes})


@pytest.mark.parametrize("text, vaccine, lot", [
    ("DOSE 12345678 1 SPUTNIK V L1", "SPUTNIK V", "L1"),
    ("dose 12345678 1 sputnik   v, l1", "SPUTNIK V", "L1"),
    ("DOSE 12345678 L1 Sputnik V", "SPUTNIK V", "L1"),
    ("DOSE 12345678 1 SPUTNIK L1", "SPUTNIK", "L1"),  # the one-word vaccine is another vaccine
    ("DOSE 12345678 1 SPV L1", "SPUTNIK V", "L1"),
    ("DOSE 12345678 1 sputnik light v L1", "SPUTNIK V", "L1"),  # the longest name wins
    ("DOSE 12345678 SPUTNIK V", "SPUTNIK V", None),  # the lot comes from the open session
    ("ডোজ ১২৩৪৫৬৭৮ ১ SPUTNIK V L১", "SPUTNIK V", "L1"),
])
def test_a_vaccine_of_several_words_is_one_name_by_sms(sputnik, text, vaccine, lot):
    got = parse(text)
    assert (got.keyword, got.ref, got.vaccine, got.vaccine_known, got.lot, got.error) == (
        "DOSE", "12345678", vaccine, True, lot, None)


def test_start_with_a_vaccine_of_several_words(sputnik):
    got = parse("START SPUTNIK V 4120Z025")
    assert (got.vaccine, got.lot, got.error) == ("SPUTNIK V", "4120Z025", None)


def test_without_the_file_sputnik_v_is_an_unknown_vaccine_and_no_lot_named_v():
    got = parse("DOSE 12345678 1 SPUTNIK V L1")
    assert (got.vaccine, got.error) == ("SPUTNIK", "unknown_vaccine")


def test_a_text_parsed_before_the_file_was_loaded_reads_the_new_names(tmp_path):
    text = "DOSE 12345678 1 SPUTNIK V L9"
    assert parse(text).error == "unknown_vaccine"
    with vaccines_file(tmp_path, SPUTNIK):
        assert parse(text).vaccine == "SPUTNIK V"
    assert parse(text).error == "unknown_vaccine"


def test_sms_and_menu_give_the_flow_the_same_command(sputnik):
    typed = parse("DOSE 12345678 1 SPUTNIK V L1")
    built = command("DOSE", ref="12345678", dose=1, vaccine="SPUTNIK V", lot="L1")
    assert replace(typed, args=()) == built  # args: the typed tokens, which a menu has none of
    by_sms = staff.step(None, "DOSE 12345678 1 SPUTNIK V L1", staff_facts(), NOW)
    by_menu = staff.step(None, built, staff_facts(), NOW)
    assert by_sms == by_menu
    _, [reply], [effect] = by_menu
    assert reply == Reply("staff.dose_recorded", {"ref": "12345678", "name": "Rahima", "dose": 1,
                                                  "vaccine": "SPUTNIK V", "lot": "L1", "count": 5})
    assert isinstance(effect, RecordDose)
    assert (effect.vaccine, effect.lot) == ("SPUTNIK V", "L1")
    confirmation = dose_confirmation("Rahima", 1, effect.vaccine, effect.on_record, TODAY)
    assert confirmation.params["next_due"] == TODAY + timedelta(days=21)  # the file's interval for SPUTNIK V


def test_a_menu_command_gets_the_grammar_checks():
    assert command("DOSE", ref="12345678", dose=4, vaccine="COVISHIELD", lot="L1").error == "bad_dose"
    assert command("DOSE", ref="12345678", dose=1, vaccine="NOPE", lot="L1").error == "unknown_vaccine"
    assert command("DOSE", ref="12345678", dose=1, vaccine="CS", lot="L" * 41).error == "bad_lot"
    assert command("DOSE", ref="12345678", dose=1, vaccine="cs", lot="L1").vaccine == "COVISHIELD"


def test_guided_dose_takes_a_vaccine_of_several_words(sputnik):
    state, [ask], _ = staff.step(None, "DOSE 12345678", staff_facts(), NOW)
    assert ask == Reply("staff.ask_vaccine")
    state, [reply], [effect] = staff.step(state, "sputnik v L5", staff_facts(), NOW)
    assert (state, reply.key, effect.vaccine, effect.lot) == (None, "staff.dose_recorded", "SPUTNIK V", "L5")


def test_dose_two_must_be_dose_ones_vaccine_of_several_words(sputnik):
    first = DoseFact(50, 1, "SPUTNIK V", "L1", NOW - timedelta(days=30), TODAY - timedelta(days=30), False)
    facts = staff_facts(beneficiary=RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": (first,)}))
    _, [reply], [effect] = staff.step(None, "DOSE 12345678 2 SPUTNIK V L2", facts, NOW)
    assert (reply.key, effect.dose_number, effect.on_record) == ("staff.dose_recorded", 2, (1,))
    assert dose_confirmation("Rahima", 2, effect.vaccine, effect.on_record, TODAY).template == FINAL
    _, [refused], effects = staff.step(None, "DOSE 12345678 2 COVAXIN L2", facts, NOW)
    assert (refused.key, effects) == ("staff.wrong_vaccine", [])


# ---- property: any name of the vaccines file, spaces included, reads back as itself

def _plain(word: str) -> bool:
    """A word that cannot be read as anything but part of a name (no keyword, dose number, built-in alias)."""
    return exact(word) is None and dose_number(word) is None and vaccines.resolve(word) is None


WORD = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8).filter(_plain)
NAME = st.lists(WORD, min_size=1, max_size=3)
LOT = st.from_regex(r"[A-Z]{0,3}[0-9]{1,5}[A-Z]{0,3}", fullmatch=True).filter(lambda lot: dose_number(lot) is None)
REF = st.from_regex(r"[0-9]{6,14}", fullmatch=True)


def _typed(words: list[str], draw_case: list[bool], gaps: list[str]) -> str:
    """The name as a vaccinator might type it: any case, one or more spaces between words."""
    cased = [w.lower() if lower else w for w, lower in zip(words, draw_case)]
    return "".join(w + gap for w, gap in zip(cased, gaps))[:-len(gaps[-1]) or None]


@settings(max_examples=150, deadline=None)
@given(words=NAME, lot=LOT, ref=REF, dose=st.sampled_from([1, 2]), lot_first=st.booleans(),
       cases=st.lists(st.booleans(), min_size=3, max_size=3), gaps=st.lists(st.sampled_from([" ", "  ", ", "]),
                                                                            min_size=3, max_size=3))
def test_any_vaccine_name_from_the_file_reads_back_by_sms(words, lot, ref, dose, lot_first, cases, gaps):
    name = " ".join(words)
    with tempfile.TemporaryDirectory() as tmp, vaccines_file(tmp, f'[[vaccine]]\nname = "{name}"\ndoses = 2\n'):
        typed = _typed(words, cases, gaps[:len(words) - 1] + [" "])
        parts = [lot, typed] if lot_first else [typed, lot]
        got = parse(f"DOSE {ref} {dose} {' '.join(parts)}")
        assert (got.ref, got.dose, got.vaccine, got.vaccine_known, got.lot, got.error) == (
            ref, dose, name, True, lot, None)
        assert replace(got, args=()) == command("DOSE", ref=ref, dose=dose, vaccine=name, lot=lot)
        assert join_vaccine_names(typed.upper().replace(",", " ").split()) == [name]
