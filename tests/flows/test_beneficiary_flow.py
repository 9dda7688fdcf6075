"""The beneficiary flow as pure transcripts."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from tikabot.flows import beneficiary
from tikabot.flows.effects import Reply, SetAppointmentStatus, SetLanguage, SetOptOut
from tikabot.flows.facts import AppointmentFact, BeneficiaryFact, SenderFacts
from tikabot.i18n.dates import Day, Slot

NOW = datetime(2025, 6, 12, 5, 0, tzinfo=timezone.utc)
APPT = AppointmentFact(id=11, dose_number=1, date=date(2025, 6, 14), slot="09:00-11:00", site_name="Kalyani PHC",
                       status="booked")
BEN = BeneficiaryFact(id=7, ref="12345678", name="Rahima Khatun", phone="+919830011111", language="bn", site_id=1,
                      site_name="Kalyani PHC", next_appointment=APPT)
WITH = SenderFacts(phone=BEN.phone, language="bn", today=date(2025, 6, 12), beneficiary=BEN)
STRANGER = SenderFacts(phone="+919830099999", language="en", today=date(2025, 6, 12))
WHEN = {"date": Day(date(2025, 6, 14), date(2025, 6, 12)), "slot": Slot("09:00-11:00"), "site": "Kalyani PHC"}


@pytest.mark.parametrize("text, facts, replies, effects", [
    ("YES", WITH, [Reply("ben.confirmed", WHEN)], [SetAppointmentStatus(11, "confirmed")]),
    ("১", WITH, [Reply("ben.confirmed", WHEN)], [SetAppointmentStatus(11, "confirmed")]),
    ("হ্যাঁ", WITH, [Reply("ben.confirmed", WHEN)], [SetAppointmentStatus(11, "confirmed")]),
    ("no", WITH, [Reply("ben.cancelled", {"date": date(2025, 6, 14)})], [SetAppointmentStatus(11, "cancelled")]),
    ("नहीं", WITH, [Reply("ben.cancelled", {"date": date(2025, 6, 14)})], [SetAppointmentStatus(11, "cancelled")]),
    ("YES", STRANGER, [Reply("ben.no_appointment")], []),
    ("STOP", WITH, [Reply("ben.opted_out")], [SetOptOut(7, True)]),
    ("বন্ধ", WITH, [Reply("ben.opted_out")], [SetOptOut(7, True)]),
    ("START", WITH, [Reply("ben.opted_in")], [SetOptOut(7, False)]),
    ("STOP", STRANGER, [Reply("ben.opted_out")], []),
    ("LANG HI", WITH, [Reply("ben.lang_set", lang="hi")], [SetLanguage("beneficiary", 7, "hi")]),
    ("HELP", WITH, [Reply("ben.help", WHEN)], []),
    ("what is this", WITH, [Reply("ben.help", WHEN)], []),
    ("hello", STRANGER, [Reply("ben.help_no_appt")], []),
    ("DOSE 12345678", WITH, [Reply("ben.help", WHEN)], []),  # staff commands mean nothing here
])
def test_beneficiary_replies(text, facts, replies, effects):
    assert beneficiary.step(None, text, facts, NOW) == (None, replies, effects)


KEPT = ([Reply("ben.cancel_how", {"date": date(2025, 6, 14)})], [])
CANCELLED = ([Reply("ben.cancelled", {"date": date(2025, 6, 14)})], [SetAppointmentStatus(11, "cancelled")])


@pytest.mark.parametrize("text, outcome", [
    ("2", KEPT), ("২", KEPT), (" 2. ", KEPT), ("2nd", ([Reply("ben.help", WHEN)], [])),
    ("No problem, I will come", KEPT), ("না আসব", KEPT), ("नहीं आऊँगा? नहीं, आऊँगा", KEPT),
    ("NO", CANCELLED), ("No.", CANCELLED), ("CANCEL", CANCELLED), ("বাতিল", CANCELLED), ("रद्द", CANCELLED),
    ("না।", CANCELLED),
])
def test_only_a_cancel_word_on_its_own_cancels(text, outcome):
    """Someone booked for dose 2 who answers "2" keeps the slot and is told how to cancel."""
    replies, effects = outcome
    assert beneficiary.step(None, text, WITH, NOW) == (None, replies, effects)


def test_a_bare_2_without_an_appointment_gets_help():
    assert beneficiary.step(None, "2", STRANGER, NOW) == (None, [Reply("ben.help_no_appt")], [])
