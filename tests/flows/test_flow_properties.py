"""Property: no text at all makes a flow step raise; every reply is a catalog key."""
from __future__ import annotations

from datetime import date, datetime, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from tikabot.flows import beneficiary, staff
from tikabot.flows.facts import BeneficiaryFact, SenderFacts, SessionFact, StaffFacts
from tikabot.i18n.catalog import all_keys

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
BEN = BeneficiaryFact(id=7, ref="12345678", name="Rahima", phone="+919830011111", language="bn", site_id=1,
                      site_name="Kalyani PHC")
STAFF = StaffFacts(staff_id=1, phone="+919830000001", language="en", site_id=1, site_name="Kalyani PHC",
                   today=date(2025, 6, 12), session=SessionFact(1, "COVISHIELD", "L1", True), beneficiary=BEN)
KEYS = set(all_keys())
WORDS = st.sampled_from(["DOSE", "ডোজ", "टीका", "OTP", "AEFI", "START", "UNDO", "১২৩৪৫৬৭৮", "12345678", "2", "CS",
                         "L1", "SEVERE", ",", "#", "YES", "না", "LANG", "বাংলা"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), st.lists(WORDS, max_size=6).map(" ".join)),
       st.sampled_from([None, {"flow": "dose", "ask": "ref", "expires": "2025-06-12T05:05:00+00:00"},
                        {"flow": "dose", "ref": "12345678", "dose": 1, "ask": "vaccine",
                         "expires": "2025-06-12T05:05:00+00:00"}]))
def test_steps_never_raise_on_any_text(text, state):
    for new_state, replies, effects in (staff.step(state, text, STAFF, NOW),
                                  beneficiary.step(None, text, SenderFacts("+91", "en", date(2025, 6, 12), BEN), NOW)):
        assert replies or effects  # every message gets an answer or does something
        assert all(r.key in KEYS for r in replies)
        assert new_state is None or new_state["flow"] == "dose"


DOSE_WORDS = st.sampled_from(["DOSE", "ডোজ", "टीका", "UNDO", "START", "END", "12345678", "১২৩৪৫৬৭৮", "1", "2", "3",
                              "2nd", "২য়", "দ্বিতীয়", "दूसरी", "pehli", "ELSEWHERE", "অন্যত্র", "CS", "CX", "L1",
                              "4120Z025", "D2", "third"])


@settings(max_examples=400, deadline=None)
@given(st.lists(DOSE_WORDS, min_size=1, max_size=6).map(" ".join), st.sampled_from(["vaccinator", "verifier"]))
def test_no_dose_is_recorded_as_normal_with_an_earlier_one_missing_and_verifiers_record_nothing(text, role):
    """BEN has no dose on record: any dose above 1 is marked for reconciliation, never 'complete'."""
    from dataclasses import replace

    from tikabot.flows.effects import CloseSession, OpenSession, RecordDose, VoidDose
    from tikabot.flows.ordinals import dose_number

    _, replies, effects = staff.step(None, text, replace(STAFF, role=role), NOW)
    for effect in effects:
        if role == "verifier":
            assert not isinstance(effect, (RecordDose, VoidDose, OpenSession, CloseSession)), text
        if isinstance(effect, RecordDose):
            assert effect.needs_reconciliation == (effect.dose_number > 1), text
            assert effect.missing == tuple(range(1, effect.dose_number)), text
            assert dose_number(effect.lot) is None, text  # a dose-shaped token never became the lot
