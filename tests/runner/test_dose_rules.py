"""Issue 14 through the real SMS runner: records a site can trust and nobody told anything untrue."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.support.worlds.runner import COORDINATOR, HI_STAFF, RAHIMA_PHONE, VACCINATOR, transcript
from tikabot.config import Config, medical_officers
from tikabot.store.models import Beneficiary, Dose, OutboundMessage, Staff, VaccinationSession

FULLY = ("fully vaccinated", "টিকাকরণ সম্পূর্ণ", "टीकाकरण पूरा")


def _doses(world, ref):
    with world.sessions() as s:
        return s.scalars(select(Dose).join(Beneficiary).where(Beneficiary.ref == ref).order_by(Dose.dose_number)).all()


def _to(world, phone, template=None):
    with world.sessions() as s:
        query = select(OutboundMessage).where(OutboundMessage.recipient == phone).order_by(OutboundMessage.id)
        if template:
            query = query.where(OutboundMessage.template == template)
        return s.scalars(query).all()


def test_ordinals_are_dose_numbers_and_the_sessions_lot_is_kept(say, world):
    say(VACCINATOR, "START CS 4120Z025")
    assert say(VACCINATOR, "DOSE 12345678 1st") == "Recorded: 12345678 (Rahima), dose 1, COVISHIELD lot 4120Z025. Today: 1."
    assert say(VACCINATOR, "DOSE 34567890 दूसरी") == (
        "Recorded: 34567890 (Lata), dose 2, COVISHIELD lot 4120Z025. Today: 2.")
    assert [(d.dose_number, d.lot) for d in _doses(world, "12345678")] == [(1, "4120Z025")]


def test_bengali_ordinal_from_a_bengali_vaccinator(say, world):
    say("+919830000002", "START CS 4120Z025")
    assert say("+919830000002", "ডোজ 12345678 ১ম").startswith("নথিভুক্ত: 12345678 (Rahima), ডোজ ১, COVISHIELD লট 4120Z025।")


def test_dose_two_with_no_dose_one_is_refused_then_recorded_elsewhere_but_never_complete(say, world):
    say(VACCINATOR, "START CS 4120Z025")
    transcript(say, VACCINATOR, [
        ("DOSE 12345678 2", "Not recorded: 12345678 has no dose 1 on record. Give dose 1 first: send DOSE 12345678 1. "
                            "If dose 1 was given elsewhere, send DOSE 12345678 2 ELSEWHERE."),
        ("DOSE 12345678 2 ELSEWHERE", "Recorded: 12345678 (Rahima), dose 2, COVISHIELD lot 4120Z025. Dose 1 given "
                                      "elsewhere is not on record: marked for checking. Today: 1."),
    ])
    [dose] = _doses(world, "12345678")
    assert (dose.dose_number, dose.needs_reconciliation) == (2, True)
    [told] = _to(world, RAHIMA_PHONE)
    assert told.template == "dose.confirmation_earlier_missing"
    assert not any(word in told.body for word in FULLY)
    assert told.body.startswith("প্রিয় Rahima, আপনার COVISHIELD টিকার দ্বিতীয় ডোজ দেওয়া হয়েছে। ১ নম্বর ডোজ এখনও রেকর্ডে নেই")


def test_four_undos_in_a_row_void_one_dose_and_undo_with_a_ref_voids_that_one(say, world):
    say(VACCINATOR, "START CS 4120Z025")
    say(VACCINATOR, "DOSE 12345678")
    say(VACCINATOR, "DOSE 34567890", minutes=1)
    assert say(VACCINATOR, "UNDO", minutes=2) == "Removed from the record: 34567890 dose 2."
    again = ("You already undid 34567890 dose 2. UNDO does not go further back: to undo another dose, "
             "send UNDO <REF>.")
    for minutes in (3, 4, 5):
        assert say(VACCINATOR, "UNDO", minutes=minutes) == again
    assert [d.voided for d in _doses(world, "12345678")] == [False]
    assert [(d.dose_number, d.voided) for d in _doses(world, "34567890")] == [(1, False), (2, True)]  # paper dose 1 kept
    assert say(VACCINATOR, "UNDO 1234-5678", minutes=6) == "Removed from the record: 12345678 dose 1."
    assert say(VACCINATOR, "UNDO 12345678", minutes=7) == "Nothing to undo for 12345678: no dose on record."


def test_undo_outside_the_window_with_a_ref(say, world):
    say(VACCINATOR, "DOSE 12345678 CS L1")
    assert say(VACCINATOR, "UNDO 12345678", minutes=16) == (
        "Cannot undo: only doses from the last 15 minutes can be undone. Please call your coordinator.")
    assert not _doses(world, "12345678")[0].voided


def test_the_beneficiary_gets_a_short_kind_correction_when_the_confirmation_had_gone(say, world):
    say(VACCINATOR, "DOSE 12345678 CS L1")
    with world.transaction() as s:
        for m in s.scalars(select(OutboundMessage)):
            m.status, m.attempts, m.provider_id = "delivered", 1, f"SM{m.id:032d}"
    say(VACCINATOR, "UNDO", minutes=1)
    [correction] = _to(world, RAHIMA_PHONE, "dose.voided")
    assert correction.body == ("প্রিয় Rahima, একটি সংশোধন: আপনার প্রথম ডোজ নিয়ে আগের বার্ত"
                               "াটি ভুল ছিল, সেটি উপেক্ষা করুন। রেকর্ড ঠিক করা হয়েছে। দুঃখিত।")


def test_a_verifier_is_refused_record_undo_and_end_in_their_language(say, world):
    say(VACCINATOR, "START CS 4120Z025")
    refused = ("{} केवल टीकाकर्मी भेज सकते हैं। सत्यापनकर्ता भेज सकते हैं: "
               "VERIFY, OTP, AEFI, COUNT, HELP, LANG।")
    for text in ("DOSE 12345678", "UNDO", "END", "START CS L1"):
        assert say(HI_STAFF, text) == refused.format(text.split()[0]), text
    assert _doses(world, "12345678") == []
    with world.sessions() as s:
        assert s.scalar(select(VaccinationSession.closed_at)) is None
    assert "Kalyani PHC" in say(HI_STAFF, "COUNT")
    assert say(HI_STAFF, "AEFI 12345678 MINOR") == "12345678 का दुष्प्रभाव दर्ज किया गया: मामूली।"


def test_severe_with_nobody_to_alert_says_so_and_claims_no_alert(say, world):
    with world.transaction() as s:
        s.scalar(select(Staff).where(Staff.phone == COORDINATOR)).active = False  # the only coordinator
    assert say(VACCINATOR, "AEFI 12345678 SEVERE") == (
        "SEVERE side effect recorded for 12345678, but no coordinator or medical officer is registered to alert. "
        "Call your medical officer now; if needed, call 108.")


def test_medical_officers_are_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIKABOT_MEDICAL_OFFICERS", "98300 77777, +91-98300-88888,,+919830077777")
    assert Config.from_env(dotenv=False).medical_officers == ("+919830077777", "+919830088888")
    with pytest.raises(ValueError, match="TIKABOT_MEDICAL_OFFICERS"):
        medical_officers("+919830077777,12")
