"""One staff phone guessing codes or REFs is paused after 10 failures in 10 minutes (runner/probes.py)."""
from __future__ import annotations

from sqlalchemy import select

from tests.support.worlds.runner import BN_STAFF, HI_STAFF, VACCINATOR
from tikabot.store.models import Dose, OutboundMessage

PAUSED = ("Too many wrong codes or unknown REFs from this phone. Checks are paused for {} minutes; "
          "your coordinator has been told.")


def _alerts(world) -> list[OutboundMessage]:
    with world.transaction() as s:
        return list(s.scalars(select(OutboundMessage).where(OutboundMessage.template == "alert.staff_probing")))


def test_wrong_codes_across_beneficiaries_and_unknown_refs_pause_the_phone(say, world):
    assert "4120Z025" in say(VACCINATOR, "START COVISHIELD 4120Z025")
    for ref in ("12345678", "23456789", "34567890", "45678901"):  # a wrong security code for each of four
        assert say(VACCINATOR, f"OTP {ref} 0000") != PAUSED.format(30)
    for n in range(5):  # REFs that do not exist
        assert f"9999000{n}" in say(VACCINATOR, f"VERIFY 9999000{n}")  # not found
    assert say(VACCINATOR, "OTP 12345678 0001") == PAUSED.format(30)  # the tenth failure
    alerts = _alerts(world)
    assert len(alerts) == 1 and "+91********01 (Mita Roy, Kalyani PHC)" in alerts[0].body
    # paused: no code is checked or sent, an unknown REF learns nothing, a known one is still recorded
    assert say(VACCINATOR, "OTP 12345678 4321", minutes=1) == PAUSED.format(29)
    assert say(VACCINATOR, "VERIFY 12345678", minutes=1) == PAUSED.format(29)
    assert say(VACCINATOR, "DOSE 99990009", minutes=2) == PAUSED.format(28)
    assert "12345678 (Rahima)" in say(VACCINATOR, "DOSE 12345678", minutes=2)
    assert len(_alerts(world)) == 1  # coordinators are told once
    # other phones are not paused, and the pause ends
    assert say(HI_STAFF, "VERIFY 99990001", minutes=3) != PAUSED.format(27)
    assert "99990001" in say(VACCINATOR, "VERIFY 99990001", minutes=31)
    with world.transaction() as s:
        assert s.scalar(select(Dose.dose_number)) == 1


def test_the_pause_is_said_in_the_senders_language(say):
    for n in range(10):
        reply = say(BN_STAFF, f"VERIFY 8888000{n}")
    assert reply == ("এই ফোন থেকে বারবার ভুল কোড বা অজানা REF এসেছে। ৩০ মিনিট যাচাই বন্ধ থাকবে; "
                     "আপনার সমন্বয়কারীকে জানানো হয়েছে।")


def test_a_few_mistakes_a_day_are_not_a_pause(say):
    for n in range(9):
        say(VACCINATOR, f"VERIFY 7777000{n}", minutes=n * 2)
    assert "77770009" in say(VACCINATOR, "VERIFY 77770009", minutes=20)
