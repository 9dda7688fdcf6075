"""The staff flow as pure transcripts: no Redis, no database, facts written by hand."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from tikabot.flows import staff
from tikabot.flows.effects import (
    CheckOtp, CloseSession, IssueOtp, OpenSession, RecordAefi, RecordDose, Recipient, Reply, SetLanguage, VoidDose,
)
from tikabot.flows.facts import BeneficiaryFact, DoseFact, LastDoseFact, SessionFact, StaffFacts

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


def recorded(dose=1, vaccine="COVISHIELD", lot="4120Z025", count=6, next_due=date(2025, 7, 10)):
    return ([Reply("staff.dose_recorded", {"ref": "12345678", "name": "Rahima", "dose": dose, "vaccine": vaccine,
                                           "lot": lot, "count": count})],
            [RecordDose(7, "12345678", dose, vaccine, lot, 1, next_due, Recipient("Rahima", "+919830011111", "bn"))])


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
    run([("DOSE 12345678", 0, *recorded(dose=2, next_due=None))], f=facts(beneficiary=ben))


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
        ("HELP", 0, [Reply("staff.help")], []),
    ])


def test_staff_without_a_site():
    run([("START CS L1", 0, [Reply("staff.no_site")], []),
         ("DOSE 12345678", 0, [Reply("staff.no_site")], [])], f=facts(site_id=None, session=None))


def test_wanted_ref_follows_the_conversation():
    assert staff.wanted_ref(None, "DOSE 1234-5678", NOW) == "12345678"
    state, _, _ = staff.step(None, "DOSE", facts(), NOW)
    assert staff.wanted_ref(state, "১২৩৪৫৬৭৮", NOW) == "12345678"
    assert staff.wanted_ref(state, "১২৩৪৫৬৭৮", NOW + timedelta(minutes=11)) is None
