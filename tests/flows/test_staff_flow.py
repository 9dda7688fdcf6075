"""The staff flow as pure transcripts: no Redis, no database, facts written by hand."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from tikabot.flows import staff
from tikabot.flows.confirmation import dose_confirmation
from tikabot.flows.course import FINAL, numbers
from tikabot.flows.effects import (
    CheckOtp, CloseSession, IssueOtp, OpenSession, RecordAefi, RecordDose, Recipient, Reply, SetLanguage, VoidDose,
)
from tikabot.flows.facts import BeneficiaryFact, DoseFact, LastDoseFact, SessionFact, StaffFacts
from tikabot.i18n.catalog import render

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
TODAY = date(2025, 6, 12)
RAHIMA = BeneficiaryFact(id=7, ref="12345678", name="Rahima Khatun", phone="+919830011111", language="bn",
                         site_id=1, site_name="Kalyani PHC")
SESSION = SessionFact(id=3, vaccine="COVISHIELD", lot="4120Z025", open=True)


def facts(**changes) -> StaffFacts:
    base = dict(staff_id=1, phone="+919830000001", language="en", site_id=1, site_name="Kalyani PHC", today=TODAY,
                session=SESSION, doses_today={1: 4, 2: 1}, due_today=9, beneficiary=RAHIMA)
    return StaffFacts(**{**base, **changes})


def dose_fact(number, vaccine="COVISHIELD", days_ago=30, voided=False, id=50):
    at = NOW - timedelta(days=days_ago)
    return DoseFact(id, number, vaccine, "L1", at, (at + timedelta(hours=5, minutes=30)).date(), voided)


def run(dialog, f=None, state=None, start=NOW):
    """dialog: (text, minutes after start, expected replies, expected effects). Returns the final state."""
    for text, minutes, replies, effects in dialog:
        state, got_replies, got_effects = staff.step(state, text, f or facts(), start + timedelta(minutes=minutes))
        assert (got_replies, got_effects) == (replies, effects), text
    return state


def recorded(dose=1, vaccine="COVISHIELD", lot="4120Z025", count=6, on_record=()):
    return ([Reply("staff.dose_recorded", {"ref": "12345678", "name": "Rahima", "dose": dose, "vaccine": vaccine,
                                           "lot": lot, "count": count})],
            [RecordDose(7, "12345678", dose, vaccine, lot, 1, Recipient("Rahima", "+919830011111", "bn"),
                        on_record=on_record)])


def test_dose_happy_path_uses_the_open_session():
    run([("DOSE 12345678", 0, *recorded())])


def test_dose_with_everything_given_needs_no_session():
    run([("dose 12345678 1 cx ab12", 0, *recorded(vaccine="COVAXIN", lot="AB12"))], f=facts(session=None))


def test_dose_bengali_digits_and_hindi_keyword():
    run([("ডোজ ১২৩৪৫৬৭৮", 0, *recorded())])
    run([("टीका १२३४५६७८ 1", 0, *recorded())])


def test_guided_dose_asks_for_each_missing_part_in_turn():
    f = facts(session=None)
    state = run([
        ("DOSE", 0, [Reply("staff.ask_ref")], []),
        ("1234", 1, [Reply("staff.bad_ref", {"ref": "1234"})], []),
        ("১২৩৪৫৬৭৮", 2, [Reply("staff.ask_vaccine")], []),
        ("sputnik", 3, [Reply("staff.unknown_vaccine", {"vaccine": "SPUTNIK", "known": "COVISHIELD, COVAXIN"})], []),
        ("covi", 4, [Reply("staff.ask_lot")], []),
        ("4120z025", 5, *recorded()),
    ], f=f)
    assert state is None


def test_guided_dose_expires_after_ten_minutes():
    state = run([("DOSE", 0, [Reply("staff.ask_ref")], [])])
    run([("12345678", 10.5, [Reply("staff.guided_expired")], [])], state=state)


def test_guided_dose_each_answer_restarts_the_clock():
    state = run([("DOSE", 0, [Reply("staff.ask_ref")], [])], f=facts(session=None))
    state = run([("12345678", 9, [Reply("staff.ask_vaccine")], [])], state=state, f=facts(session=None))
    run([("CS 4120Z025", 18, *recorded())], state=state, f=facts(session=None))


def test_a_command_abandons_the_guided_dose():
    state = run([("DOSE", 0, [Reply("staff.ask_ref")], [])])
    run([("COUNT", 1, [Reply("staff.count", {"site": "Kalyani PHC", "dose1": 4, "dose2": 1, "total": 5,
                                             "due": 9, "remaining": 4})], [])], state=state)


def test_dose_rejections_name_what_is_wrong():
    run([
        ("DOSE 1234", 0, [Reply("staff.bad_ref", {"ref": "1234"})], []),
        ("DOSE 12345678 7", 0, [Reply("staff.bad_dose_number", {"dose": 7})], []),
        ("DOSE 12345678 2 SPUTNIK L1", 0,
         [Reply("staff.unknown_vaccine", {"vaccine": "SPUTNIK", "known": "COVISHIELD, COVAXIN"})], []),
        ("DOSE 99999999", 0, [Reply("staff.unknown_ref", {"ref": "99999999"})], []),
    ])


def test_duplicate_dose_is_not_recorded_twice():
    ben = RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": (dose_fact(1, days_ago=0),)})
    run([("DOSE 12345678 1", 0, [Reply("staff.dose_duplicate", {"ref": "12345678", "dose": 1})], []),
         ("DOSE 12345678", 0, [Reply("staff.dose_duplicate", {"ref": "12345678", "dose": 1})], [])],
        f=facts(beneficiary=ben))


def test_dose_two_too_early_and_wrong_vaccine():
    early = RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": (dose_fact(1, days_ago=10),)})
    run([("DOSE 12345678", 0, [Reply("staff.dose2_too_early", {"ref": "12345678", "due_date": date(2025, 6, 30)})], [])],
        f=facts(beneficiary=early))
    other = RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": (dose_fact(1, vaccine="COVAXIN"),)})
    run([("DOSE 12345678 2", 0, [Reply("staff.wrong_vaccine", {"ref": "12345678", "vaccine": "COVAXIN"})], [])],
        f=facts(beneficiary=other))


def test_dose_two_on_time_completes_the_course():
    ben = RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": (dose_fact(1, days_ago=28),)})
    run([("DOSE 12345678", 0, *recorded(dose=2, on_record=(1,)))], f=facts(beneficiary=ben))
    assert dose_confirmation("Rahima", 2, "COVISHIELD", (1,), TODAY).template == FINAL  # what the person is told


def test_voided_dose_can_be_recorded_again():
    ben = RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": (dose_fact(1, days_ago=0, voided=True),)})
    run([("DOSE 12345678", 0, *recorded())], f=facts(beneficiary=ben))


def test_beneficiary_booked_elsewhere_is_recorded_here():
    ben = RAHIMA.__class__(**{**RAHIMA.__dict__, "site_id": 2, "site_name": "Barasat SDH"})
    _, replies, effects = staff.step(None, "DOSE 12345678", facts(beneficiary=ben), NOW)
    assert replies[0].key == "staff.dose_recorded_other_site"
    assert replies[0].params["booked_site"] == "Barasat SDH"
    assert effects[0].site_id == 1


def test_undo_inside_and_outside_the_window():
    last = LastDoseFact(id=50, ref="12345678", dose_number=1, created_at=NOW)
    run([("UNDO", 14, [Reply("staff.undo_done", {"ref": "12345678", "dose": 1})], [VoidDose(50)])],
        f=facts(last_dose=last))
    run([("UNDO", 16, [Reply("staff.undo_too_late", {"minutes": 15})], [])], f=facts(last_dose=last))
    run([("UNDO", 0, [Reply("staff.undo_nothing")], [])], f=facts(last_dose=None))


def test_start_count_end():
    run([("START CS 4120Z025", 0, [Reply("staff.session_already_open", {"vaccine": "COVISHIELD", "lot": "4120Z025"})],
          [])])
    run([("START covaxin B77", 0, [Reply("staff.session_started", {"vaccine": "COVAXIN", "lot": "B77", "due": 9})],
          [OpenSession(1, "COVAXIN", "B77")])], f=facts(session=None))
    run([("START 4120Z025", 0, [Reply("staff.usage", {"usage": Reply("usage.START")})], [])], f=facts(session=None))
    run([("END", 0, [Reply("staff.session_closed", {"site": "Kalyani PHC", "dose1": 4, "dose2": 1, "total": 5})],
          [CloseSession(3, "Kalyani PHC", 4, 1, 5)])])
    run([("END", 0, [Reply("staff.no_open_session_to_end")], [])], f=facts(session=None))


def test_verify_otp_aefi_lang_help():
    run([
        ("VERIFY 1234-5678", 0, [], [IssueOtp(7, "12345678")]),
        ("OTP 12345678 ১২৩৪৫৬", 0, [], [CheckOtp(7, "12345678", "Rahima", "123456")]),
        ("VERIFY 87654321", 0, [Reply("staff.unknown_ref", {"ref": "87654321"})], []),
        ("AEFI 12345678 SEVERE fainted", 0,
         [Reply("staff.aefi_recorded", {"ref": "12345678", "severity": Reply("severity.SEVERE")})],
         [RecordAefi(7, "12345678", "SEVERE", "fainted", 1, "Kalyani PHC")]),
        ("AEFI 12345678 fever", 0, [Reply("staff.usage", {"usage": Reply("usage.AEFI")})], []),
        ("भाषा हिंदी", 0, [Reply("staff.lang_set", lang="hi")], [SetLanguage("staff", 1, "hi")]),
        ("মদদ", 0, [Reply("staff.unknown_command")], []),
        ("HELP", 0, [Reply("staff.help"), Reply("staff.help_words")], []),  # the words in their language too
    ])


def test_staff_without_a_site():
    run([("START CS L1", 0, [Reply("staff.no_site")], []),
         ("DOSE 12345678", 0, [Reply("staff.no_site")], [])], f=facts(site_id=None, session=None))


def test_wanted_ref_follows_the_conversation():
    assert staff.wanted_ref(None, "DOSE 1234-5678", NOW) == "12345678"
    state, _, _ = staff.step(None, "DOSE", facts(), NOW)
    assert staff.wanted_ref(state, "১২৩৪৫৬৭৮", NOW) == "12345678"
    assert staff.wanted_ref(state, "১২৩৪৫৬৭৮", NOW + timedelta(minutes=11)) is None


# ---- issue 14: ordinals, dose 2 needs dose 1, one UNDO at a time, roles

def with_doses(*doses):
    return RAHIMA.__class__(**{**RAHIMA.__dict__, "doses": doses})


@pytest.mark.parametrize("text", ["DOSE 12345678 1st", "ডোজ ১২৩৪৫৬৭৮ ১ম", "टीका 12345678 पहली",
                                  "DOSE 12345678 first", "dose 12345678 pehli"])
def test_an_ordinal_dose_takes_the_sessions_lot(text):
    run([(text, 0, *recorded())])


@pytest.mark.parametrize("text", ["DOSE 12345678 2", "DOSE 12345678 2nd", "ডোজ ১২৩৪৫৬৭৮ দ্বিতীয়",
                                  "टीका 12345678 दूसरी"])
def test_dose_two_with_no_dose_one_is_not_recorded_and_says_how_to_proceed(text):
    run([(text, 0, [Reply("staff.earlier_dose_missing", {"ref": "12345678", "dose": 2, "missing": numbers([1])})], [])])


def test_dose_two_elsewhere_is_recorded_for_reconciliation_and_never_as_complete():
    run([("DOSE 12345678 2 ELSEWHERE", 0,
          [Reply("staff.dose_recorded_elsewhere", {"ref": "12345678", "name": "Rahima", "dose": 2,
                                                   "vaccine": "COVISHIELD", "lot": "4120Z025", "count": 6,
                                                   "missing": numbers([1])})],
          [RecordDose(7, "12345678", 2, "COVISHIELD", "4120Z025", 1,
                      Recipient("Rahima", "+919830011111", "bn"), needs_reconciliation=True, missing=(1,))])])


def test_elsewhere_survives_the_guided_questions():
    state = run([("DOSE 12345678 2 ELSEWHERE", 0, [Reply("staff.ask_vaccine")], [])], f=facts(session=None))
    state = run([("CS", 1, [Reply("staff.ask_lot")], [])], state=state, f=facts(session=None))
    _, replies, effects = staff.step(state, "L9", facts(session=None), NOW + timedelta(minutes=2))
    assert replies[0].key == "staff.dose_recorded_elsewhere" and effects[0].needs_reconciliation


def test_elsewhere_with_nothing_missing_is_an_ordinary_dose():
    run([("DOSE 12345678 2 ELSEWHERE", 0, *recorded(dose=2, on_record=(1,)))],
        f=facts(beneficiary=with_doses(dose_fact(1, days_ago=28))))


def test_a_dose_beyond_the_course_is_refused_even_with_nothing_on_record():
    run([("DOSE 12345678 3 ELSEWHERE", 0, [Reply("staff.bad_dose_number", {"dose": 3})], [])])


def _void(number=1, ref_ago=0, site_id=1, by="+919830000001", id=50):
    created = NOW - timedelta(minutes=ref_ago)
    fact = dose_fact(number, days_ago=0, id=id)
    return fact.__class__(**{**fact.__dict__, "created_at": created, "site_id": site_id, "recorded_by": by})


def test_a_second_bare_undo_does_not_reach_further_back():
    from tikabot.flows.facts import LastVoidFact

    earlier = LastDoseFact(id=49, ref="23456789", dose_number=1, created_at=NOW - timedelta(minutes=5))
    undone = LastVoidFact(ref="12345678", dose_number=1, voided_at=NOW)
    for minutes in (0, 1, 30):
        run([("UNDO", minutes, [Reply("staff.undo_ask_ref", {"ref": "12345678", "dose": 1})], [])],
            f=facts(last_dose=earlier, last_void=undone))
    newer = LastDoseFact(id=51, ref="34567890", dose_number=2, created_at=NOW + timedelta(minutes=1))
    run([("UNDO", 2, [Reply("staff.undo_done", {"ref": "34567890", "dose": 2})], [VoidDose(51)])],
        f=facts(last_dose=newer, last_void=undone))


def test_undo_with_a_ref_voids_that_persons_latest_dose_within_the_window():
    ben = with_doses(_void(1, ref_ago=3))
    run([("UNDO 1234-5678", 0, [Reply("staff.undo_done", {"ref": "12345678", "dose": 1})], [VoidDose(50)])],
        f=facts(beneficiary=ben))
    run([("UNDO 12345678", 13, [Reply("staff.undo_too_late", {"minutes": 15})], [])], f=facts(beneficiary=ben))
    colleague = with_doses(_void(1, ref_ago=3, by="+919830000002"))  # same site, another vaccinator
    run([("UNDO 12345678", 0, [Reply("staff.undo_done", {"ref": "12345678", "dose": 1})], [VoidDose(50)])],
        f=facts(beneficiary=colleague))
    elsewhere = with_doses(_void(1, ref_ago=3, site_id=2, by="+919830000077"))
    run([("UNDO 12345678", 0, [Reply("staff.undo_other_site", {"ref": "12345678", "dose": 1})], [])],
        f=facts(beneficiary=elsewhere))
    run([("UNDO 12345678", 0, [Reply("staff.undo_no_dose", {"ref": "12345678"})], [])])
    run([("UNDO 87654321", 0, [Reply("staff.unknown_ref", {"ref": "87654321"})], [])])


VERIFIER_REFUSED = ["DOSE 12345678", "DOSE", "UNDO", "UNDO 12345678", "START CS L1", "END"]


@pytest.mark.parametrize("text", VERIFIER_REFUSED)
def test_a_verifier_is_told_who_may_send_a_vaccinators_command(text):
    keyword = text.split()[0]
    run([(text, 0, [Reply("staff.not_allowed", {"command": keyword})], [])],
        f=facts(role="verifier", last_dose=LastDoseFact(50, "12345678", 1, NOW)))


def test_a_verifier_verifies_reports_side_effects_and_asks():
    f = facts(role="verifier")
    for text, key in [("VERIFY 12345678", None), ("OTP 12345678 4321", None), ("AEFI 12345678 SEVERE", "staff.aefi_recorded"),
                      ("COUNT", "staff.count"), ("HELP", "staff.help"), ("LANG BN", "staff.lang_set")]:
        _, replies, effects = staff.step(None, text, f, NOW)
        assert (replies[0].key if replies else None) == key and (effects or replies), text


def test_dose_one_after_a_dose_two_given_elsewhere_completes_the_course():
    two = dose_fact(2, days_ago=0)
    two = two.__class__(**{**two.__dict__, "needs_reconciliation": True})
    _, replies, effects = staff.step(None, "DOSE 12345678 1st", facts(beneficiary=with_doses(two)), NOW)
    assert replies[0].key == "staff.dose_recorded"
    assert (effects[0].dose_number, effects[0].on_record, effects[0].missing) == (1, (2,), ())
    assert dose_confirmation("Rahima", 1, "COVISHIELD", effects[0].on_record, TODAY).template == FINAL


@pytest.mark.parametrize("lang", ["en", "bn", "hi"])
def test_the_refusal_lists_exactly_the_commands_a_verifier_may_send(lang):
    text = render("staff.not_allowed", lang, command="DOSE")
    listed = text.rsplit(":", 1)[1].strip(" .।").split(", ")
    assert listed == list(staff.VERIFIER_COMMANDS), text
